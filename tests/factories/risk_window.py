"""The whole risk window read naively, for the batch's window to be checked against.

The daily batch reads only the bookings its counts let through
(``risk/window_repository.py``); a test compares that with every booking of the window,
read here the plain way: one select over ``risk.repository.in_window``, the same facts.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fairslot.bookings.models import Booking
from fairslot.bookings.states import BookingStatus
from fairslot.hospitals.models import Department
from fairslot.patients.models import Patient
from fairslot.risk.facts import BookingFact
from fairslot.risk.repository import in_window, stream, utc
from fairslot.risk.rules import Window

_ATTENDED = {BookingStatus.CHECKED_IN: True, BookingStatus.NO_SHOW: False}


def whole_window_facts(db: Session, *, window: Window) -> list[BookingFact]:
    """Every booking of the window as a fact."""
    statement = (
        select(
            Booking.id,
            Patient.id_hash,
            Booking.account_id,
            Booking.department_id,
            Department.specialty,
            Department.sex_restriction,
            Patient.sex,
            Booking.session_id,
            Booking.session_date,
            utc(db, func.coalesce(Booking.booked_at, Booking.held_at)),
            utc(db, Booking.ended_at),
            Booking.status,
            Booking.payment_account_hash,
            Booking.device_key,
            Booking.ip_key,
            Booking.wifi_key,
            Patient.phone_hash,
            Booking.channel_id,
        )
        .join(Department, Department.id == Booking.department_id)
        .join(Patient, Patient.id == Booking.patient_id)
        .where(in_window(window))
    )
    return [
        BookingFact(
            booking_id=booking_id,
            patient_key=patient_key,
            account_id=account_id,
            department_id=department_id,
            department_specialty=specialty,
            sex_restriction=sex_restriction,
            patient_sex=sex,
            session_id=session_id,
            session_date=session_date,
            booked_at=taken_at,
            cancelled_at=ended_at if status is BookingStatus.CANCELLED else None,
            status=status,
            attended=_ATTENDED.get(status),
            payment_account_hash=payment_hash,
            device_key=device_key,
            ip_key=ip,
            wifi_key=wifi_key,
            phone_hash=phone_hash,
            channel_id=channel_id,
        )
        for (
            booking_id,
            patient_key,
            account_id,
            department_id,
            specialty,
            sex_restriction,
            sex,
            session_id,
            session_date,
            taken_at,
            ended_at,
            status,
            payment_hash,
            device_key,
            ip,
            wifi_key,
            phone_hash,
            channel_id,
        ) in stream(db, statement)
    ]
