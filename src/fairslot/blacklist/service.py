"""Blocking identifiers found to be a scalper's, and lifting a block after an in-person
appeal. Every change is a staff action, audited in the same transaction. Services only
flush; the edge commits."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from fairslot.blacklist import repository as repo
from fairslot.blacklist.keys import key_for, label_for
from fairslot.blacklist.models import BlacklistEntry, Scope
from fairslot.blacklist.states import IdDocument
from fairslot.crypto import Protector
from fairslot.errors import Conflict, InvalidInput, NotFound
from fairslot.patients.identity import IdentityError
from fairslot.staff import audit
from fairslot.staff.audit import StaffActor


def block(
    db: Session,
    *,
    scope: Scope,
    value: str,
    reason: str,
    actor: StaffActor,
    now: datetime,
    protector: Protector,
    days: int | None = None,
    case_ref: str | None = None,
) -> BlacklistEntry:
    """Block an identifier given in the clear for ``days`` (None: until lifted in person)."""
    try:
        key = key_for(scope, value, protector=protector)
    except (IdentityError, ValueError) as exc:
        raise InvalidInput(
            f"That is not a valid {scope.value} identifier.", code="invalid_identifier"
        ) from exc
    return block_key(
        db,
        scope=scope,
        key_hash=key,
        label=label_for(scope, value),
        reason=reason,
        actor=actor,
        now=now,
        days=days,
        case_ref=case_ref,
    )


def block_key(
    db: Session,
    *,
    scope: Scope,
    key_hash: str,
    label: str,
    reason: str,
    actor: StaffActor,
    now: datetime,
    days: int | None = None,
    case_ref: str | None = None,
) -> BlacklistEntry:
    """Block an identifier by the key it is stored under (``blacklist/keys.py``): what a
    case knows, since personal identifiers reach review only as keyed hashes."""
    if not reason.strip():
        raise InvalidInput("Give the reason for the block.", code="reason_required")
    if days is not None and days <= 0:
        raise InvalidInput(
            "days must be positive (or omitted for a permanent block).", code="invalid_days"
        )
    existing = repo.active_entry(db, scope=scope, key_hash=key_hash)
    if existing is not None and existing.expires_at is not None and existing.expires_at <= now:
        # An expired entry no longer blocks but still holds the identifier's one unlifted
        # place (the partial unique index): close it so the new block can be recorded.
        repo.lift(db, entry_id=existing.id, now=now, by=actor.username[:64], note="expired")
        existing = None
    if existing is not None:
        raise Conflict("This identifier is already blocked.", code="already_blocked")
    entry = BlacklistEntry(
        scope=scope,
        key_hash=key_hash,
        label=label[:64],
        reason=reason.strip()[:500],
        case_ref=case_ref,
        created_by=actor.username[:64],
        created_at=now,
        expires_at=now + timedelta(days=days) if days else None,
    )
    db.add(entry)
    db.flush()
    audit.record(
        db,
        actor=actor,
        action="blacklist.add",
        target_kind="blacklist",
        target_id=entry.id,
        now=now,
        reason=entry.reason,
        data={
            "scope": scope.value,
            "label": entry.label,
            "days": days,
            "case": case_ref,
        },
    )
    return entry


def lift_in_person(
    db: Session,
    *,
    entry_id: int,
    actor: StaffActor,
    checked: str,
    now: datetime,
    document: IdDocument | None = None,
    checked_by: str | None = None,
) -> BlacklistEntry:
    """A person blocked by mistake came to the hospital: staff record what they checked
    (``checked``), and, where the desk says so, which identity document was shown and who
    at the desk checked it; both go into the lift's audit row."""
    if not checked.strip():
        raise InvalidInput(
            "Record what was checked in person (e.g. the ID card and the booking history).",
            code="check_required",
        )
    note = checked.strip()[:500]
    checker = (checked_by or "").strip()[:64] or None
    if not repo.lift(db, entry_id=entry_id, now=now, by=actor.username[:64], note=note):
        if repo.get(db, entry_id) is None:
            raise NotFound("No blacklist entry has this id.", code="entry_not_found")
        raise Conflict("This entry was already lifted.", code="already_lifted")
    entry = repo.get(db, entry_id)
    assert entry is not None
    db.refresh(entry)
    audit.record(
        db,
        actor=actor,
        action="blacklist.lift",
        target_kind="blacklist",
        target_id=entry.id,
        now=now,
        reason=note,
        data={
            "scope": entry.scope.value,
            "label": entry.label,
            "in_person": True,
            "document": document.value if document is not None else None,
            "checked_by": checker,
        },
    )
    return entry


def case_ref_for(db: Session, *, case_id: int) -> str:
    """How an entry names the case it comes from; the case must exist."""
    if not repo.case_exists(db, case_id):
        raise NotFound("No case has this id.", code="case_not_found")
    return str(case_id)


def in_force(entry: BlacklistEntry, *, now: datetime) -> bool:
    """Whether the entry still blocks: not lifted and not expired."""
    return entry.lifted_at is None and (entry.expires_at is None or entry.expires_at > now)
