"""Every booking-side query. State changes are compare-and-set: they name the state they
expect and report whether exactly one row changed, so two racing requests cannot both win
(same on SQLite and PostgreSQL; the partial unique indexes are the last guard)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Update, and_, func, or_, select, update
from sqlalchemy.orm import Session

from fairslot.availability.repository import session_on_sale
from fairslot.bookings.models import Booking
from fairslot.bookings.states import OCCUPYING, PENDING, BookingStatus
from fairslot.hospitals.models import Department, Hospital
from fairslot.patients.models import Patient
from fairslot.schedules.models import ClinicSession, Slot
from fairslot.schedules.states import SessionStatus, SlotState


def claim_slot(
    db: Session, *, slot_id: str, channel_id: int, now: datetime, hold_until: datetime
) -> bool:
    """Move a claimable slot to HELD (see :func:`claim_statement`); False if it was not."""
    result = db.execute(
        claim_statement(
            slot_id=slot_id, channel_id=channel_id, now=now, hold_until=hold_until
        ).execution_options(synchronize_session=False)
    )
    return _one(result)


def claim_statement(
    *, slot_id: str, channel_id: int, now: datetime, hold_until: datetime
) -> Update:
    """The claim: one compare-and-set UPDATE. The whole release gate is in its WHERE clause.

    Claimable: the session is active, released and not yet closed; the slot is OPEN, or
    COOLING past its drawn re-release time; it is not reserved for another channel, or
    that reservation has lapsed; and the session is on sale: first-come, or its release
    draw has run (the draw books its own winners after marking itself drawn).
    """
    gate = (
        select(ClinicSession.id)
        .where(
            ClinicSession.id == Slot.session_id,
            ClinicSession.status == SessionStatus.ACTIVE,
            ClinicSession.release_at <= now,
            ClinicSession.closes_at > now,
            session_on_sale(),
        )
        .exists()
    )
    return (
        update(Slot)
        .where(
            Slot.id == slot_id,
            or_(
                Slot.state == SlotState.OPEN,
                and_(Slot.state == SlotState.COOLING, Slot.reopen_at <= now),
            ),
            or_(
                Slot.reserved_channel_id.is_(None),
                Slot.reserved_channel_id == channel_id,
                Slot.reserved_until <= now,
            ),
            gate,
        )
        .values(
            state=SlotState.HELD,
            hold_expires_at=hold_until,
            reopen_at=None,
            version=Slot.version + 1,
        )
    )


def move_slot(
    db: Session,
    *,
    slot_id: str,
    expected: Collection[SlotState],
    target: SlotState,
    **values: Any,
) -> bool:
    result = db.execute(
        update(Slot)
        .where(Slot.id == slot_id, Slot.state.in_(list(expected)))
        .values(state=target, version=Slot.version + 1, **values)
        .execution_options(synchronize_session=False)
    )
    return _one(result)


def reopen_slot(db: Session, *, slot_id: str, now: datetime) -> bool:
    """Move a COOLING slot whose drawn re-release time has come back to OPEN.

    The due time is part of the compare-and-set: between a caller's read and this update
    the slot may have been claimed, cancelled and put to cool again with a new delay,
    which must not be cut short.
    """
    result = db.execute(
        update(Slot)
        .where(Slot.id == slot_id, Slot.state == SlotState.COOLING, Slot.reopen_at <= now)
        .values(state=SlotState.OPEN, reopen_at=None, version=Slot.version + 1)
        .execution_options(synchronize_session=False)
    )
    return _one(result)


def move_booking(
    db: Session,
    *,
    booking_id: str,
    expected: BookingStatus,
    target: BookingStatus,
    extra_where: Sequence[Any] = (),
    **values: Any,
) -> bool:
    result = db.execute(
        update(Booking)
        .where(Booking.id == booking_id, Booking.status == expected, *extra_where)
        .values(status=target, version=Booking.version + 1, **values)
        .execution_options(synchronize_session=False)
    )
    return _one(result)


def _one(result: Any) -> bool:
    return int(result.rowcount) == 1


def get_booking(db: Session, booking_id: str, *, for_update: bool = False) -> Booking | None:
    stmt = select(Booking).where(Booking.id == booking_id)
    if for_update:
        stmt = stmt.with_for_update()
    return db.scalars(stmt).one_or_none()


def get_slot(db: Session, slot_id: str) -> Slot | None:
    return db.get(Slot, slot_id, populate_existing=True)


def get_session(db: Session, session_id: int) -> ClinicSession | None:
    return db.get(ClinicSession, session_id)


def occupying_for_slot(db: Session, slot_id: str) -> Booking | None:
    return db.scalars(
        select(Booking).where(Booking.slot_id == slot_id, Booking.status.in_(list(OCCUPYING)))
    ).one_or_none()


def stale_holds(
    db: Session,
    *,
    now: datetime,
    slot_id: str | None = None,
    patient_id: int | None = None,
    limit: int = 500,
) -> list[Booking]:
    stmt = select(Booking).where(Booking.status == BookingStatus.HELD, Booking.expires_at <= now)
    if slot_id is not None:
        stmt = stmt.where(Booking.slot_id == slot_id)
    if patient_id is not None:
        stmt = stmt.where(Booking.patient_id == patient_id)
    return list(db.scalars(stmt.order_by(Booking.expires_at).limit(limit)))


def patient_bookings_on(db: Session, *, patient_id: int, day: date) -> list[Booking]:
    return list(
        db.scalars(
            select(Booking).where(
                Booking.patient_id == patient_id,
                Booking.session_date == day,
                Booking.status.in_(list(OCCUPYING)),
            )
        )
    )


def count_pending_future(db: Session, *, patient_id: int, today: date) -> int:
    return int(
        db.scalar(
            select(func.count())
            .select_from(Booking)
            .where(
                Booking.patient_id == patient_id,
                Booking.status.in_(list(PENDING)),
                Booking.session_date >= today,
            )
        )
        or 0
    )


def no_show_times(db: Session, *, patient_id: int, since: datetime) -> list[datetime]:
    """When the sessions the patient missed started (a ban runs from the missed visit,
    not from whenever the hospital got round to marking it)."""
    return list(
        db.scalars(
            select(ClinicSession.starts_at)
            .join(Booking, Booking.session_id == ClinicSession.id)
            .where(
                Booking.patient_id == patient_id,
                Booking.status == BookingStatus.NO_SHOW,
                ClinicSession.starts_at >= since,
            )
        )
    )


def bookings_for_session(db: Session, session_id: int) -> list[Booking]:
    return list(
        db.scalars(
            select(Booking).where(
                Booking.session_id == session_id, Booking.status.in_(list(PENDING))
            )
        )
    )


def cooling_due(db: Session, *, now: datetime, limit: int = 500) -> list[Slot]:
    return list(
        db.scalars(
            select(Slot)
            .where(Slot.state == SlotState.COOLING, Slot.reopen_at <= now)
            .order_by(Slot.reopen_at)
            .limit(limit)
        )
    )


def mark_release_logged(db: Session, *, slot_id: str) -> bool:
    result = db.execute(
        update(Slot)
        .where(Slot.id == slot_id, Slot.release_logged.is_(False))
        .values(release_logged=True)
        .execution_options(synchronize_session=False)
    )
    return _one(result)


def patient_key(db: Session, patient_id: int) -> str | None:
    return db.scalar(select(Patient.id_hash).where(Patient.id == patient_id))


def lock_patient(db: Session, *, patient_id: int) -> None:
    db.execute(
        update(Patient)
        .where(Patient.id == patient_id)
        .values(booking_guard=Patient.booking_guard + 1)
        .execution_options(synchronize_session=False)
    )


def get_department(db: Session, department_id: int) -> Department:
    department = db.get(Department, department_id)
    assert department is not None  # foreign key
    return department


def hospital_timezone(db: Session, hospital_id: int) -> str:
    return str(db.scalar(select(Hospital.timezone).where(Hospital.id == hospital_id)))
