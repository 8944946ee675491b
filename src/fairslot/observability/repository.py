"""The read-only queries behind the figures computed at scrape time: tonight's release fill
and how far the sweeper is behind. Nothing here writes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.orm import Session

from fairslot.allocation.models import Draw
from fairslot.allocation.states import DrawStatus
from fairslot.bookings.models import Booking
from fairslot.bookings.states import BookingStatus
from fairslot.hospitals.models import Hospital
from fairslot.schedules.models import ClinicSession, Slot
from fairslot.schedules.states import FREE_STATES, SessionStatus, SlotState

# What a released slot can be: free (open or cooling), held, or taken by a patient.
TAKEN_STATES = (SlotState.BOOKED, SlotState.ATTENDED, SlotState.NO_SHOW)


@dataclass(frozen=True)
class Fill:
    hospital: str
    released: int
    free: int
    held: int
    taken: int


@dataclass(frozen=True)
class OldestDue:
    """The due time of the oldest work the sweeper has not done yet (None: nothing due)."""

    hold_expiry: datetime | None
    re_release: datetime | None
    draw: datetime | None


def bound_statement_time(db: Session, *, milliseconds: int) -> None:
    """A scrape must never become the database's slow query: on PostgreSQL each statement
    of this transaction gives up after ``milliseconds`` (SQLite has no such setting)."""
    if db.get_bind().dialect.name == "postgresql":
        db.execute(select(func.set_config("statement_timeout", str(milliseconds), True)))


def _count(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def release_fill(db: Session, *, since: datetime, now: datetime) -> list[Fill]:
    """Per hospital, the slots of active sessions released in ``(since, now]``: how many
    were released, and how many are free, held or taken now."""
    rows = db.execute(
        select(
            Hospital.code,
            func.count(),
            _count(Slot.state.in_(FREE_STATES)),
            _count(Slot.state == SlotState.HELD),
            _count(Slot.state.in_(TAKEN_STATES)),
        )
        .select_from(ClinicSession)
        .join(Hospital, Hospital.id == ClinicSession.hospital_id)
        .join(Slot, Slot.session_id == ClinicSession.id)
        .where(
            ClinicSession.status == SessionStatus.ACTIVE,
            ClinicSession.release_at > since,
            ClinicSession.release_at <= now,
            Slot.state != SlotState.WITHDRAWN,
        )
        .group_by(Hospital.code)
        .order_by(Hospital.code)
    ).all()
    return [
        Fill(hospital=str(code), released=int(n), free=int(f), held=int(h), taken=int(t))
        for code, n, f, h, t in rows
    ]


def oldest_due(db: Session, *, now: datetime) -> OldestDue:
    """The sweeper's own predicates (``bookings/repository.py::stale_holds``,
    ``cooling_due``, ``allocation/repository.py::due_draws``), reduced to their oldest
    due time, in one round trip."""
    hold = (
        select(func.min(Booking.expires_at))
        .where(Booking.status == BookingStatus.HELD, Booking.expires_at <= now)
        .scalar_subquery()
    )
    cooling = (
        select(func.min(Slot.reopen_at))
        .where(Slot.state == SlotState.COOLING, Slot.reopen_at <= now)
        .scalar_subquery()
    )
    draw = (
        select(func.min(Draw.due_at))
        .where(Draw.status == DrawStatus.OPEN, Draw.due_at <= now)
        .scalar_subquery()
    )
    row = db.execute(select(hold, cooling, draw)).one()
    return OldestDue(hold_expiry=row[0], re_release=row[1], draw=row[2])
