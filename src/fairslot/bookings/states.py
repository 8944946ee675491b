"""Booking states and the one table of allowed transitions. Pure: no I/O."""

from __future__ import annotations

import enum


class BookingStatus(enum.StrEnum):
    HELD = "held"
    BOOKED = "booked"
    EXPIRED = "expired"
    CANCELLED = "cancelled"
    CHECKED_IN = "checked_in"
    NO_SHOW = "no_show"
    WITHDRAWN = "withdrawn"  # the hospital withdrew the session, or a confirmed case did


BOOKING_TRANSITIONS: dict[BookingStatus, frozenset[BookingStatus]] = {
    BookingStatus.HELD: frozenset(
        {
            BookingStatus.BOOKED,
            BookingStatus.EXPIRED,
            BookingStatus.CANCELLED,
            BookingStatus.WITHDRAWN,
        }
    ),
    BookingStatus.BOOKED: frozenset(
        {
            BookingStatus.CANCELLED,
            BookingStatus.CHECKED_IN,
            BookingStatus.NO_SHOW,
            BookingStatus.WITHDRAWN,
        }
    ),
    BookingStatus.EXPIRED: frozenset(),
    BookingStatus.CANCELLED: frozenset(),
    BookingStatus.CHECKED_IN: frozenset(),
    BookingStatus.NO_SHOW: frozenset(),
    BookingStatus.WITHDRAWN: frozenset(),
}

# Statuses that occupy the slot and count against the patient's per-day limits.
OCCUPYING = frozenset(
    {BookingStatus.HELD, BookingStatus.BOOKED, BookingStatus.CHECKED_IN, BookingStatus.NO_SHOW}
)
# Statuses that still lie ahead of the patient (count against "active future bookings").
PENDING = frozenset({BookingStatus.HELD, BookingStatus.BOOKED})


def can_transition(current: BookingStatus, target: BookingStatus) -> bool:
    return target in BOOKING_TRANSITIONS[current]
