"""The push benchmark's own queries: what a push wrote, counted back after its commit."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fairslot.ledger.events import EventKind
from fairslot.ledger.models import SlotEvent
from fairslot.schedules.models import ClinicSession, Slot


@dataclass(frozen=True)
class Written:
    sessions: int
    slots: int
    reserved_slots: int
    pushed_events: int
    cooling_events: int
    events: int

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def written(db: Session, *, hospital_id: int) -> Written:
    """The hospital's sessions, their slots and their slots' ledger rows."""
    sessions = db.scalar(
        select(func.count())
        .select_from(ClinicSession)
        .where(ClinicSession.hospital_id == hospital_id)
    )
    slot_rows = (
        select(Slot.id, Slot.reserved_channel_id)
        .join(ClinicSession, ClinicSession.id == Slot.session_id)
        .where(ClinicSession.hospital_id == hospital_id)
        .subquery()
    )
    slots, reserved = db.execute(
        select(func.count(), func.count(slot_rows.c.reserved_channel_id)).select_from(slot_rows)
    ).one()
    kinds = dict(
        db.execute(
            select(SlotEvent.kind, func.count())
            .join(slot_rows, slot_rows.c.id == SlotEvent.slot_id)
            .group_by(SlotEvent.kind)
        ).all()
    )
    return Written(
        sessions=int(sessions or 0),
        slots=int(slots),
        reserved_slots=int(reserved),
        pushed_events=int(kinds.get(EventKind.PUSHED, 0)),
        cooling_events=int(kinds.get(EventKind.COOLING, 0)),
        events=sum(int(n) for n in kinds.values()),
    )
