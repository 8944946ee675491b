"""Appending to a slot's ledger. Callers flush; the edge commits."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from fairslot.context import RequestContext
from fairslot.ledger.events import EventKind
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
    event = SlotEvent(
        slot_id=slot_id,
        kind=kind,
        at=at,
        recorded_at=recorded_at,
        actor=ctx.actor,
        booking_id=booking_id,
        patient_key=patient_key,
        account_id=ctx.account_id,
        channel_id=ctx.channel_id,
        device_id=ctx.device_id,
        ip=ctx.ip,
        wifi_id=ctx.wifi_id,
        payment_account_hash=ctx.payment_account_hash,
        data=data or {},
    )
    db.add(event)
    return event
