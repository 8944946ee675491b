"""Every query of the follow-up call queue.

Claims are compare-and-set (:func:`move`), like the review queue's: they name the version
and status they expect and report whether exactly one row changed.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, func, or_, select
from sqlalchemy.orm import Session

from fairslot.bookings.models import Booking
from fairslot.bookings.states import BookingStatus
from fairslot.channels.models import Channel
from fairslot.followup.models import CallTask, SampleDay
from fairslot.followup.states import CallReason, CallStatus
from fairslot.hospitals.models import Department, Doctor
from fairslot.patients.models import Patient
from fairslot.schedules.models import ClinicSession
from fairslot.staff.models import StaffAction, StaffUser

# Bookings that were confirmed (paid) and still stand: the population of the daily sample.
CONFIRMED = (BookingStatus.BOOKED, BookingStatus.CHECKED_IN, BookingStatus.NO_SHOW)


def get(db: Session, task_id: int) -> CallTask | None:
    return db.get(CallTask, task_id)


def _takeable(now: datetime) -> ColumnElement[bool]:
    """Pending, or taken by an agent whose claim has lapsed."""
    return or_(
        CallTask.status == CallStatus.PENDING,
        and_(CallTask.status == CallStatus.TAKEN, CallTask.locked_until <= now),
    )


def _queue_order() -> tuple[Any, ...]:
    """A case waits on flagged calls, so they come before the sample; then the oldest."""
    flagged_first = case((CallTask.reason == CallReason.FLAGGED, 0), else_=1)
    return (flagged_first, CallTask.created_at, CallTask.id)


def next_candidates(
    db: Session, *, now: datetime, exclude: Collection[int], limit: int
) -> list[CallTask]:
    """Tasks an agent may take: pending ones and those whose claim lapsed, flagged calls
    first, then the oldest."""
    query = select(CallTask).where(_takeable(now))
    if exclude:
        query = query.where(CallTask.id.not_in(list(exclude)))
    return list(
        db.scalars(
            query.order_by(*_queue_order()).limit(limit).execution_options(populate_existing=True)
        )
    )


def existing_keys(db: Session, keys: Collection[str]) -> set[str]:
    if not keys:
        return set()
    return set(db.scalars(select(CallTask.dedupe_key).where(CallTask.dedupe_key.in_(list(keys)))))


def tasks_of_case(db: Session, case_id: int) -> list[tuple[CallTask, Patient]]:
    rows = db.execute(
        select(CallTask, Patient)
        .join(Patient, Patient.id == CallTask.patient_id)
        .where(CallTask.case_id == case_id)
        .order_by(CallTask.id)
    )
    return [(task, patient) for task, patient in rows]


def open_flagged_of_case(db: Session, case_id: int) -> int:
    """How many flagged calls of the case still lack an outcome."""
    return int(
        db.scalar(
            select(func.count())
            .select_from(CallTask)
            .where(
                CallTask.case_id == case_id,
                CallTask.reason == CallReason.FLAGGED,
                CallTask.status != CallStatus.DONE,
            )
        )
        or 0
    )


def outcomes_of_case(db: Session, case_id: int) -> dict[str, int]:
    rows = db.execute(
        select(CallTask.outcome, func.count())
        .where(CallTask.case_id == case_id, CallTask.outcome.is_not(None))
        .group_by(CallTask.outcome)
    )
    return {str(outcome.value if outcome else ""): int(n) for outcome, n in rows}


def confirmed_between(db: Session, *, start: datetime, end: datetime) -> list[tuple[str, int]]:
    """(booking id, patient id) of the bookings confirmed in ``[start, end)`` that stand."""
    rows = db.execute(
        select(Booking.id, Booking.patient_id)
        .where(
            Booking.booked_at >= start,
            Booking.booked_at < end,
            Booking.status.in_(list(CONFIRMED)),
        )
        .order_by(Booking.id)
    )
    return [(booking_id, patient_id) for booking_id, patient_id in rows]


def sampled_between(db: Session, *, start: datetime, end: datetime) -> set[str]:
    """Ids of the bookings confirmed in ``[start, end)`` that already have a sample task."""
    return set(
        db.scalars(
            select(CallTask.booking_id)
            .join(Booking, Booking.id == CallTask.booking_id)
            .where(
                CallTask.reason == CallReason.SAMPLE,
                Booking.booked_at >= start,
                Booking.booked_at < end,
            )
        )
    )


BookingSummaryRow = tuple[Booking, Department, Doctor, ClinicSession, Channel]


def booking_summary(db: Session, booking_id: str) -> BookingSummaryRow | None:
    row = db.execute(
        select(Booking, Department, Doctor, ClinicSession, Channel)
        .join(ClinicSession, ClinicSession.id == Booking.session_id)
        .join(Department, Department.id == Booking.department_id)
        .join(Doctor, Doctor.id == ClinicSession.doctor_id)
        .join(Channel, Channel.id == Booking.channel_id)
        .where(Booking.id == booking_id)
    ).one_or_none()
    if row is None:
        return None
    booking, department, doctor, session, channel = row
    return booking, department, doctor, session, channel


def patient(db: Session, patient_id: int) -> Patient | None:
    return db.get(Patient, patient_id)


def sampled_days(db: Session, *, among: Collection[str]) -> set[str]:
    """The days (ISO dates) among ``among`` whose sample was taken, by anyone: each run of
    ``service.sample`` writes one ``calls.sample`` audit row on its day (an index read)."""
    if not among:
        return set()
    return set(
        db.scalars(
            select(StaffAction.target_id)
            .where(
                StaffAction.target_kind == "day",
                StaffAction.target_id.in_(among),
                StaffAction.action == "calls.sample",
            )
            .distinct()
        )
    )


def claim_sample_day(db: Session, *, day: str, now: datetime) -> None:
    """Write the day's claim row and flush it, so that a concurrent claim of the same day
    fails here (on PostgreSQL it waits for the first to commit, then fails)."""
    db.add(SampleDay(day=day, drawn_at=now))
    db.flush()


# -- the console's call desk -------------------------------------------------------------

DeskRow = tuple[CallTask, str, str | None, date | None, str | None]
_DeskSelect = Select[CallTask, str, str | None, date | None, str | None]


def _desk() -> _DeskSelect:
    """A call with its patient's name, its booking's department and day, and its agent."""
    return (
        select(
            CallTask,
            Patient.name_masked,
            Department.name,
            ClinicSession.session_date,
            StaffUser.username,
        )
        .join(Patient, Patient.id == CallTask.patient_id)
        .outerjoin(Booking, Booking.id == CallTask.booking_id)
        .outerjoin(Department, Department.id == Booking.department_id)
        .outerjoin(ClinicSession, ClinicSession.id == Booking.session_id)
        .outerjoin(StaffUser, StaffUser.id == CallTask.assigned_to)
    )


def _rows(db: Session, query: _DeskSelect) -> list[DeskRow]:
    return [
        (task, name, department, day, agent)
        for task, name, department, day, agent in db.execute(query)
    ]


def held_by(db: Session, *, staff_id: int, now: datetime) -> list[DeskRow]:
    """The calls ``staff_id`` holds with a live claim, oldest first."""
    return _rows(
        db,
        _desk()
        .where(
            CallTask.status == CallStatus.TAKEN,
            CallTask.assigned_to == staff_id,
            CallTask.locked_until > now,
        )
        .order_by(CallTask.id),
    )


def waiting(db: Session, *, now: datetime, limit: int) -> list[DeskRow]:
    """The calls an agent may take, in the order :func:`next_candidates` gives them."""
    return _rows(db, _desk().where(_takeable(now)).order_by(*_queue_order()).limit(limit))


def waiting_count(db: Session, *, now: datetime) -> int:
    return int(db.scalar(select(func.count()).select_from(CallTask).where(_takeable(now))) or 0)


def latest_done(db: Session, *, limit: int) -> list[DeskRow]:
    """The calls with an outcome, latest first."""
    return _rows(
        db,
        _desk()
        .where(CallTask.status == CallStatus.DONE)
        .order_by(CallTask.done_at.desc(), CallTask.id.desc())
        .limit(limit),
    )


def open_help_of_patient(db: Session, *, patient_id: int) -> bool:
    """Whether the patient has a help request the desk has not finished."""
    found = db.scalar(
        select(CallTask.id)
        .where(
            CallTask.patient_id == patient_id,
            CallTask.reason == CallReason.HELP,
            CallTask.status != CallStatus.DONE,
        )
        .limit(1)
    )
    return found is not None
