"""Queries of the operator rules (``risk/operators.py``): availability polls per device,
and the identifiers the blacklist holds in force."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from fairslot.audit.models import RequestRecord
from fairslot.blacklist.models import BlacklistEntry, Scope
from fairslot.risk.operators import PollFact
from fairslot.risk.rules import Window

POLL_ACTION = "availability"


def poll_facts(db: Session, *, window: Window, at_least: int) -> list[PollFact]:
    """Devices with at least ``at_least`` availability polls in the window: how many,
    first and last arrival (``request_records.at`` is the server's arrival time). One
    grouped scan of the ``(device_key, at)`` index; a device below the count is never
    returned, so a city's browsing stays in the database."""
    first, last = func.min(RequestRecord.at), func.max(RequestRecord.at)
    statement = (
        select(RequestRecord.device_key, func.count(), first, last)
        .where(
            RequestRecord.action == POLL_ACTION,
            RequestRecord.device_key.is_not(None),
            RequestRecord.at >= window.start,
            RequestRecord.at < window.end,
        )
        .group_by(RequestRecord.device_key)
        .having(func.count() >= at_least)
    )
    return [
        PollFact(device_key=device, polls=int(count), first_at=start, last_at=end)
        for device, count, start, end in db.execute(statement)
        if device  # excluded by the query; the type does not know
    ]


def blacklisted_keys(
    db: Session, *, now: datetime, scopes: tuple[Scope, ...]
) -> set[tuple[str, str]]:
    """``(scope, key_hash)`` of every entry in force now in ``scopes``."""
    rows = db.execute(
        select(BlacklistEntry.scope, BlacklistEntry.key_hash).where(
            BlacklistEntry.scope.in_(scopes),
            BlacklistEntry.lifted_at.is_(None),
            or_(BlacklistEntry.expires_at.is_(None), BlacklistEntry.expires_at > now),
        )
    )
    return {(scope.value, key) for scope, key in rows}
