"""Every query the benchmark makes itself: what the checks read after the burst."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fairslot.bench.checks import LedgerRow, Occupying
from fairslot.bookings.models import Booking
from fairslot.bookings.states import OCCUPYING
from fairslot.ledger.models import SlotEvent
from fairslot.schedules.models import Slot


def occupying(db: Session, *, session_ids: Collection[int]) -> list[Occupying]:
    rows = db.execute(
        select(
            Booking.id,
            Booking.slot_id,
            Booking.session_id,
            Booking.patient_id,
            Booking.department_id,
            Booking.session_date,
        ).where(Booking.session_id.in_(list(session_ids)), Booking.status.in_(list(OCCUPYING)))
    )
    return [Occupying(*row) for row in rows]


def slots_per_session(db: Session, *, session_ids: Collection[int]) -> dict[int, int]:
    rows = db.execute(
        select(Slot.session_id, func.count())
        .where(Slot.session_id.in_(list(session_ids)))
        .group_by(Slot.session_id)
    )
    return {session_id: int(count) for session_id, count in rows}


def ledger(db: Session, *, session_ids: Collection[int]) -> list[LedgerRow]:
    """Every ledger event of the sessions' slots, per slot in the order written."""
    rows = db.execute(
        select(SlotEvent.slot_id, SlotEvent.kind, SlotEvent.booking_id)
        .join(Slot, Slot.id == SlotEvent.slot_id)
        .where(Slot.session_id.in_(list(session_ids)))
        .order_by(SlotEvent.slot_id, SlotEvent.id)
    )
    return [LedgerRow(*row) for row in rows]
