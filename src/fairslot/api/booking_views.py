"""What a hold, confirmation or cancellation answers: the booking as it stands after the
request's own changes."""

from __future__ import annotations

from sqlalchemy.orm import Session

from fairslot.api.localtime import local, local_or_none
from fairslot.bookings import repository as booking_repo
from fairslot.bookings.models import Booking
from fairslot.bookings.schemas import BookingView
from fairslot.bookings.service import NewHold


def held_view(made: NewHold) -> BookingView:
    """The answer to a hold, from what the hold wrote and its claim returned: the same
    view :func:`booking_view` would read back (``tests/api/test_hold_round_trips.py``
    compares them), without reading it."""
    booking, session, tz = made.booking, made.session, made.timezone
    return BookingView(
        booking_id=booking.id,
        status=booking.status,
        slot_id=booking.slot_id,
        slot_number=made.slot_number,
        session_id=session.id,
        his_session_id=session.his_session_id,
        department_id=session.department_id,
        session_date=session.session_date,
        slot_starts_at=local(made.slot_starts_at, tz),
        slot_ends_at=local(made.slot_ends_at, tz),
        held_at=local(booking.held_at, tz),
        hold_expires_at=local(booking.expires_at, tz),
        booked_at=local_or_none(booking.booked_at, tz),
        ended_at=local_or_none(booking.ended_at, tz),
        payment_account=booking.payment_account_masked,
    )


def booking_view(db: Session, booking: Booking) -> BookingView:
    """The booking as it stands after the request's own changes (read again: a state
    change is a compare-and-set UPDATE that leaves the loaded object behind)."""
    place = booking_repo.booking_place(db, booking.id)
    assert place is not None  # the booking and its slot, session and hospital exist
    fresh, slot, session, tz = place.booking, place.slot, place.session, place.timezone
    return BookingView(
        booking_id=fresh.id,
        status=fresh.status,
        slot_id=slot.id,
        slot_number=slot.number,
        session_id=session.id,
        his_session_id=session.his_session_id,
        department_id=session.department_id,
        session_date=session.session_date,
        slot_starts_at=local(slot.starts_at, tz),
        slot_ends_at=local(slot.ends_at, tz),
        held_at=local(fresh.held_at, tz),
        hold_expires_at=local(fresh.expires_at, tz),
        booked_at=local_or_none(fresh.booked_at, tz),
        ended_at=local_or_none(fresh.ended_at, tz),
        payment_account=fresh.payment_account_masked,
    )
