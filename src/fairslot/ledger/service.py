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
        device_key=ctx.device_key,
        ip_key=ctx.ip_key,
        ip_label=ctx.ip_label,
        wifi_key=ctx.wifi_key,
        payment_account_hash=ctx.payment_account_hash,
        data=data or {},
    )
    db.add(event)
    return event
