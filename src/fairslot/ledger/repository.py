from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from fairslot.ledger.models import SlotEvent


def history(db: Session, slot_id: str) -> list[SlotEvent]:
    return list(
        db.scalars(select(SlotEvent).where(SlotEvent.slot_id == slot_id).order_by(SlotEvent.id))
    )
