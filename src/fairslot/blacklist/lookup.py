"""Reading the blacklist as IT does at the desk: find entries (by scope, by an identifier
typed in, by a piece of the masked label, by state), and read one entry's history — who
blocked it, from which case, who lifted it and what was checked.

An identifier typed in is hashed with the same keyed hash the gate uses
(``blacklist/keys.py``), so the search finds exactly the entries that would block it; the
identifier itself is neither stored nor returned.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from fairslot.blacklist import repository as repo
from fairslot.blacklist.keys import keys_for_value
from fairslot.blacklist.models import BlacklistEntry, Scope
from fairslot.blacklist.states import EntryState, IdDocument, state_of
from fairslot.crypto import Protector
from fairslot.errors import NotFound

PAGE = 50


@dataclass(frozen=True)
class EntryRow:
    entry: BlacklistEntry
    state: EntryState


@dataclass(frozen=True)
class SearchResult:
    rows: list[EntryRow]
    # An identifier was typed in that cannot be one of the scope asked for (nothing matched).
    invalid_value: bool = False
    # The id to pass as ``before_id`` for the next page, if there may be one.
    next_before: int | None = None


@dataclass(frozen=True)
class EntryEvent:
    """One step of an entry's history: a staff action on it, or its expiry."""

    kind: str  # "blacklist.add", "blacklist.lift" (audit actions) or "expired"
    at: datetime
    actor: str | None = None
    reason: str | None = None
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class LiftCheck:
    """What the desk recorded when the person came in person."""

    note: str
    lifted_by: str
    at: datetime
    document: IdDocument | None
    checked_by: str | None


@dataclass(frozen=True)
class EntryHistory:
    entry: BlacklistEntry
    state: EntryState
    events: list[EntryEvent]
    lift: LiftCheck | None


def search(
    db: Session,
    *,
    now: datetime,
    protector: Protector,
    scope: Scope | None = None,
    value: str = "",
    label: str = "",
    state: EntryState | None = None,
    before_id: int | None = None,
    limit: int = PAGE,
) -> SearchResult:
    """Entries newest first. ``value`` is an identifier in the clear: only entries stored
    under its key (in ``scope``, or in any scope it can belong to) match."""
    keys = None
    if value.strip():
        keys = keys_for_value(value, protector=protector, scope=scope)
        if not keys:
            return SearchResult(rows=[], invalid_value=True)
    entries = repo.search(
        db,
        now=now,
        scope=scope,
        keys=keys,
        label=label.strip() or None,
        state=state,
        before_id=before_id,
        limit=limit,
    )
    rows = [EntryRow(entry=e, state=_state(e, now)) for e in entries]
    return SearchResult(rows=rows, next_before=entries[-1].id if len(entries) == limit else None)


def history(db: Session, *, entry_id: int, now: datetime) -> EntryHistory:
    """The entry and its story, oldest first: its creation and lifting as audited (with
    the reason, the case and what was checked), and its expiry once its time ran out."""
    entry = repo.get(db, entry_id)
    if entry is None:
        raise NotFound("No blacklist entry has this id.", code="entry_not_found")
    events = [
        EntryEvent(
            kind=row.action, at=row.at, actor=row.actor, reason=row.reason, data=row.data or {}
        )
        for row in repo.audit_rows(db, entry.id)
    ]
    state = _state(entry, now)
    if state == EntryState.EXPIRED and entry.expires_at is not None:
        events.append(EntryEvent(kind="expired", at=entry.expires_at))
        events.sort(key=lambda event: event.at)
    return EntryHistory(entry=entry, state=state, events=events, lift=_lift_check(entry, events))


def _state(entry: BlacklistEntry, now: datetime) -> EntryState:
    return state_of(lifted_at=entry.lifted_at, expires_at=entry.expires_at, now=now)


def _lift_check(entry: BlacklistEntry, events: list[EntryEvent]) -> LiftCheck | None:
    if entry.lifted_at is None or entry.lifted_by is None:
        return None
    lifted = next((e for e in reversed(events) if e.kind == "blacklist.lift"), None)
    data = lifted.data if lifted is not None else {}
    document = data.get("document")
    checked_by = data.get("checked_by")
    return LiftCheck(
        note=entry.lift_note or "",
        lifted_by=entry.lifted_by,
        at=entry.lifted_at,
        document=IdDocument(document) if document in set(IdDocument) else None,
        checked_by=checked_by if isinstance(checked_by, str) else None,
    )
