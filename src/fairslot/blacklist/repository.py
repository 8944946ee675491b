from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, Exists, and_, exists, false, or_, select, tuple_, update
from sqlalchemy.orm import Session

from fairslot.blacklist.models import BlacklistEntry, Scope
from fairslot.blacklist.states import EntryState
from fairslot.cases.models import Case
from fairslot.staff.models import StaffAction


def active_hit(
    db: Session, *, keys: Collection[tuple[Scope, str]], now: datetime
) -> BlacklistEntry | None:
    """The first active entry matching any (scope, key), if one exists."""
    if not keys:
        return None
    return db.scalars(
        select(BlacklistEntry)
        .where(
            tuple_(BlacklistEntry.scope, BlacklistEntry.key_hash).in_(list(keys)),
            BlacklistEntry.lifted_at.is_(None),
            or_(BlacklistEntry.expires_at.is_(None), BlacklistEntry.expires_at > now),
        )
        .order_by(BlacklistEntry.id)
        .limit(1)
    ).one_or_none()


def in_force_hit(
    pairs: Sequence[tuple[Scope, ColumnElement[str | None]]], *, now: ColumnElement[datetime]
) -> Exists:
    """Whether an entry in force matches any (scope, key) pair, as an ``EXISTS`` for a
    caller's own statement: the keys may be bound parameters or scalar subqueries read in
    the same round trip (the real-time gate reads a patient's keys and their entries
    together, ``gate/repository.py``). Each pair is one range of the active
    (scope, key_hash) index."""
    return exists().where(
        or_(*(and_(BlacklistEntry.scope == scope, BlacklistEntry.key_hash == key)
              for scope, key in pairs)),
        BlacklistEntry.lifted_at.is_(None),
        or_(BlacklistEntry.expires_at.is_(None), BlacklistEntry.expires_at > now),
    )  # fmt: skip


def active_keys(
    db: Session, *, keys: Collection[tuple[Scope, str]], now: datetime, chunk: int = 500
) -> set[tuple[Scope, str]]:
    """Which of the (scope, key) pairs an entry in force blocks (one query per ``chunk``)."""
    wanted = sorted(set(keys))
    found: set[tuple[Scope, str]] = set()
    for start in range(0, len(wanted), chunk):
        rows = db.execute(
            select(BlacklistEntry.scope, BlacklistEntry.key_hash).where(
                tuple_(BlacklistEntry.scope, BlacklistEntry.key_hash).in_(
                    wanted[start : start + chunk]
                ),
                BlacklistEntry.lifted_at.is_(None),
                or_(BlacklistEntry.expires_at.is_(None), BlacklistEntry.expires_at > now),
            )
        )
        found.update((Scope(scope), key) for scope, key in rows)
    return found


def active_entry(db: Session, *, scope: Scope, key_hash: str) -> BlacklistEntry | None:
    return db.scalars(
        select(BlacklistEntry).where(
            BlacklistEntry.scope == scope,
            BlacklistEntry.key_hash == key_hash,
            BlacklistEntry.lifted_at.is_(None),
        )
    ).one_or_none()


def get(db: Session, entry_id: int) -> BlacklistEntry | None:
    return db.get(BlacklistEntry, entry_id)


def listing(db: Session, *, include_lifted: bool) -> list[BlacklistEntry]:
    stmt = select(BlacklistEntry).order_by(BlacklistEntry.id)
    if not include_lifted:
        stmt = stmt.where(BlacklistEntry.lifted_at.is_(None))
    return list(db.scalars(stmt))


def lift(db: Session, *, entry_id: int, now: datetime, by: str, note: str) -> bool:
    result = db.execute(
        update(BlacklistEntry)
        .where(BlacklistEntry.id == entry_id, BlacklistEntry.lifted_at.is_(None))
        .values(lifted_at=now, lifted_by=by, lift_note=note)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount) == 1  # type: ignore[attr-defined]


def entries(
    db: Session, *, now: datetime, include_inactive: bool, before_id: int | None, limit: int
) -> list[BlacklistEntry]:
    """Entries newest first, a page at a time (``before_id``): only those in force at
    ``now`` (neither lifted nor expired), or every one with ``include_inactive``."""
    stmt = select(BlacklistEntry).order_by(BlacklistEntry.id.desc()).limit(limit)
    if not include_inactive:
        stmt = stmt.where(
            BlacklistEntry.lifted_at.is_(None),
            or_(BlacklistEntry.expires_at.is_(None), BlacklistEntry.expires_at > now),
        )
    if before_id is not None:
        stmt = stmt.where(BlacklistEntry.id < before_id)
    return list(db.scalars(stmt))


def case_exists(db: Session, case_id: int) -> bool:
    return db.get(Case, case_id) is not None


def _in_state(state: EntryState, now: datetime) -> ColumnElement[bool]:
    """The SQL twin of ``states.state_of``."""
    e = BlacklistEntry
    expired = or_(
        and_(e.lifted_at.is_(None), e.expires_at <= now),
        and_(e.lifted_at.is_not(None), e.expires_at <= e.lifted_at),
    )
    if state == EntryState.EXPIRED:
        return expired
    if state == EntryState.LIFTED:
        return and_(
            e.lifted_at.is_not(None), or_(e.expires_at.is_(None), e.expires_at > e.lifted_at)
        )
    return and_(e.lifted_at.is_(None), or_(e.expires_at.is_(None), e.expires_at > now))


def search(
    db: Session,
    *,
    now: datetime,
    scope: Scope | None = None,
    keys: Collection[tuple[Scope, str]] | None = None,
    label: str | None = None,
    state: EntryState | None = None,
    before_id: int | None = None,
    limit: int = 50,
) -> list[BlacklistEntry]:
    """Entries newest first, a page at a time (``before_id``), filtered by scope, by the
    stored keys of an identifier (``keys``; an empty collection matches nothing), by a
    piece of the masked label, and by state at ``now``."""
    stmt = select(BlacklistEntry).order_by(BlacklistEntry.id.desc()).limit(limit)
    if scope is not None:
        stmt = stmt.where(BlacklistEntry.scope == scope)
    if keys is not None:
        wanted = list(keys)
        stmt = stmt.where(
            tuple_(BlacklistEntry.scope, BlacklistEntry.key_hash).in_(wanted) if wanted else false()
        )
    if label:
        stmt = stmt.where(BlacklistEntry.label.contains(label, autoescape=True))
    if state is not None:
        stmt = stmt.where(_in_state(state, now))
    if before_id is not None:
        stmt = stmt.where(BlacklistEntry.id < before_id)
    return list(db.scalars(stmt))


def audit_rows(db: Session, entry_id: int) -> list[StaffAction]:
    """The staff actions recorded against the entry (``blacklist.add``, ``blacklist.lift``),
    oldest first."""
    return list(
        db.scalars(
            select(StaffAction)
            .where(StaffAction.target_kind == "blacklist", StaffAction.target_id == str(entry_id))
            .order_by(StaffAction.at, StaffAction.id)
        )
    )
