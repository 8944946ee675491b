"""The whole risk window read naively, for the batch's window to be checked against.

The daily batch reads only the bookings its counts let through
(``risk/window_repository.py``); a test compares that with every booking of the window,
read here the plain way: one select over ``risk.repository.in_window``, the same facts.
The rows become facts here too, by column name, not through the batch's own reader
(``window_repository._facts``): a fault in that reader would then agree with itself.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

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
    """Every booking of the window as a fact, each column read by the fact's field name
    (the batch's reader goes by position)."""
    statement = (
        select(
            Booking.id.label("booking_id"),
            Patient.id_hash.label("patient_key"),
            Booking.account_id,
            Booking.department_id,
            Department.specialty.label("department_specialty"),
            Department.sex_restriction,
            Patient.sex.label("patient_sex"),
            Booking.session_id,
            Booking.session_date,
            utc(db, func.coalesce(Booking.booked_at, Booking.held_at)).label("booked_at"),
            utc(db, Booking.ended_at).label("ended_at"),
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
    names = statement.selected_columns.keys()
    return [_fact(**dict(zip(names, row, strict=True))) for row in stream(db, statement)]


def _fact(*, ended_at: dt.datetime | None, **fields: Any) -> BookingFact:
    """A booking's fact: cancelled when it ended cancelled, attended as checked in."""
    status = fields["status"]
    return BookingFact(
        **fields,
        cancelled_at=ended_at if status is BookingStatus.CANCELLED else None,
        attended=_ATTENDED.get(status),
    )
