from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any, cast

from sqlalchemy import Table, insert, select
from sqlalchemy.orm import Session

from fairslot.bookings.models import Booking
from fairslot.channels.models import Channel
from fairslot.db.core import core_connection
from fairslot.hospitals.models import Department, Doctor, Hospital
from fairslot.ledger.models import SlotEvent
from fairslot.patients.models import Patient
from fairslot.schedules.models import ClinicSession, Slot

SlotPlace = tuple[Slot, ClinicSession, Department, Doctor, Hospital]
_APPEND = insert(cast(Table, SlotEvent.__table__))


def append(db: Session, *, rows: Sequence[dict[str, Any]]) -> None:
    """Insert ledger rows (every column but ``id``) in one executemany on the session's
    connection, after what the session has pending (``db/core.py``); nothing is read
    back. (The table, not the entity: an ORM bulk insert would split the rows wherever
    their None columns differ; see ``schedules.repository.insert_slots``.)"""
    if rows:
        core_connection(db).execute(_APPEND, list(rows))


def history(db: Session, slot_id: str) -> list[SlotEvent]:
    return list(
        db.scalars(select(SlotEvent).where(SlotEvent.slot_id == slot_id).order_by(SlotEvent.id))
    )


def slot_place(db: Session, slot_id: str) -> SlotPlace | None:
    """The slot with its session, department, doctor and hospital (one round trip)."""
    row = db.execute(
        select(Slot, ClinicSession, Department, Doctor, Hospital)
        .join(ClinicSession, ClinicSession.id == Slot.session_id)
        .join(Department, Department.id == ClinicSession.department_id)
        .join(Doctor, Doctor.id == ClinicSession.doctor_id)
        .join(Hospital, Hospital.id == ClinicSession.hospital_id)
        .where(Slot.id == slot_id)
        .execution_options(populate_existing=True)
    ).one_or_none()
    return None if row is None else (row[0], row[1], row[2], row[3], row[4])


def slot_of_booking(db: Session, booking_id: str) -> str | None:
    return db.scalar(select(Booking.slot_id).where(Booking.id == booking_id))


def patients_of_bookings(db: Session, booking_ids: Collection[str]) -> dict[str, Patient]:
    if not booking_ids:
        return {}
    rows = db.execute(
        select(Booking.id, Patient)
        .join(Patient, Patient.id == Booking.patient_id)
        .where(Booking.id.in_(sorted(set(booking_ids))))
    ).all()
    return {str(booking_id): patient for booking_id, patient in rows}


def channel_names(db: Session, channel_ids: Collection[int]) -> dict[int, str]:
    if not channel_ids:
        return {}
    rows = db.execute(
        select(Channel.id, Channel.name).where(Channel.id.in_(sorted(set(channel_ids))))
    ).all()
    return {int(channel_id): str(name) for channel_id, name in rows}
