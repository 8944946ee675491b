"""Appending to a slot's ledger. Callers flush; the edge commits."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from fairslot.context import RequestContext
from fairslot.ledger import repository as repo
from fairslot.ledger.events import Entry, EventKind
from fairslot.ledger.models import SlotEvent


def record(
    db: Session,
    *,
    slot_id: str,
    kind: EventKind,
    at: datetime,
    recorded_at: datetime,
    ctx: RequestContext,
    booking_id: str | None = None,
    patient_key: str | None = None,
    data: dict[str, Any] | None = None,
) -> SlotEvent:
    return add_row(
        db,
        entry_row(
            slot_id=slot_id, kind=kind, at=at, recorded_at=recorded_at, ctx=ctx,
            booking_id=booking_id, patient_key=patient_key, data=data,
        ),
    )  # fmt: skip


def add_row(db: Session, row: dict[str, Any]) -> SlotEvent:
    """Add one row (:func:`entry_row`) to the session, written at its next flush in the
    order rows were added."""
    event = SlotEvent(**row)
    db.add(event)
    return event


def entry_row(
    *,
    slot_id: str,
    kind: EventKind,
    at: datetime,
    recorded_at: datetime,
    ctx: RequestContext,
    booking_id: str | None = None,
    patient_key: str | None = None,
    data: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One ledger row's columns (every column but ``id``)."""
    return {
        "slot_id": slot_id,
        "kind": kind,
        "at": at,
        "recorded_at": recorded_at,
        "booking_id": booking_id,
        "patient_key": patient_key,
        "data": data or {},
        **_who(ctx),
    }


def record_many(
    db: Session,
    *,
    entries: Iterable[Entry],
    at: datetime,
    recorded_at: datetime,
    ctx: RequestContext,
) -> int:
    """Append many rows of one actor at one instant (a push's ``pushed`` rows) in one
    executemany, without an ORM object each; no booking or patient. Written at once,
    not at the next flush: their slots must be written already. Returns the count."""
    rows = [
        entry_row(
            slot_id=entry.slot_id, kind=entry.kind, at=at, recorded_at=recorded_at, ctx=ctx,
            data=entry.data,
        )
        for entry in entries
    ]  # fmt: skip
    repo.append(db, rows=rows)
    return len(rows)


def _who(ctx: RequestContext) -> dict[str, Any]:
    """Who acted, through which channel and from where: the columns every row takes
    from its request context."""
    return {
        "actor": ctx.actor,
        "account_id": ctx.account_id,
        "channel_id": ctx.channel_id,
        "device_key": ctx.device_key,
        "ip_key": ctx.ip_key,
        "ip_label": ctx.ip_label,
        "wifi_key": ctx.wifi_key,
        "payment_account_hash": ctx.payment_account_hash,
    }
