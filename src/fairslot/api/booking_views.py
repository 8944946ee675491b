"""What a hold, confirmation or cancellation answers: the booking as it stands after the
request's own changes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from fairslot.api.localtime import local, local_or_none
from fairslot.bookings import repository as booking_repo
from fairslot.bookings.booking import confirmed_place_key
from fairslot.bookings.models import Booking
from fairslot.bookings.schemas import BookingView
from fairslot.bookings.service import NewHold
from fairslot.memo import recall_in_transaction
from fairslot.schedules.models import ClinicSession


def held_view(made: NewHold) -> BookingView:
    """The answer to a hold, from what the hold wrote and its claim returned: the same
    view :func:`booking_view` would read back (``tests/api/test_hold_round_trips.py``
    compares them), without reading it."""
    return _view(
        booking=made.booking,
        session=made.session,
        slot_id=made.booking.slot_id,
        slot_number=made.slot_number,
        slot_starts_at=made.slot_starts_at,
        slot_ends_at=made.slot_ends_at,
        tz=made.timezone,
    )


def booking_view(db: Session, booking: Booking) -> BookingView:
    """The booking as it stands after the request's own changes (read again: a state
    change is a compare-and-set UPDATE that leaves the loaded object behind) — unless
    this transaction confirmed it: the confirmation mirrored its UPDATE onto this very
    object and read its slot's place for the hospital's feed
    (``bookings/booking.py::confirm_preauthorised``), so nothing is read again
    (``tests/api/test_hold_round_trips.py`` compares the two)."""
    confirmed = recall_in_transaction(db, confirmed_place_key(booking.id))
    if confirmed is not None and confirmed[0] is booking:
        known: booking_repo.SlotPlace = confirmed[1]
    else:
        place = booking_repo.booking_place(db, booking.id)
        assert place is not None  # the booking and its slot, session and hospital exist
        booking, slot = place.booking, place.slot
        known = booking_repo.SlotPlace(
            session=place.session,
            number=slot.number,
            starts_at=slot.starts_at,
            ends_at=slot.ends_at,
            timezone=place.timezone,
        )
    return _view(
        booking=booking,
        session=known.session,
        slot_id=booking.slot_id,
        slot_number=known.number,
        slot_starts_at=known.starts_at,
        slot_ends_at=known.ends_at,
        tz=known.timezone,
    )


def _view(
    *,
    booking: Booking,
    session: ClinicSession,
    slot_id: str,
    slot_number: int,
    slot_starts_at: datetime,
    slot_ends_at: datetime,
    tz: str,
) -> BookingView:
    """One booking's view, its times in the hospital's zone ``tz``."""
    return BookingView(
        booking_id=booking.id,
        status=booking.status,
        slot_id=slot_id,
        slot_number=slot_number,
        session_id=session.id,
        his_session_id=session.his_session_id,
        department_id=session.department_id,
        session_date=session.session_date,
        slot_starts_at=local(slot_starts_at, tz),
        slot_ends_at=local(slot_ends_at, tz),
        held_at=local(booking.held_at, tz),
        hold_expires_at=local(booking.expires_at, tz),
        booked_at=local_or_none(booking.booked_at, tz),
        ended_at=local_or_none(booking.ended_at, tz),
        payment_account=booking.payment_account_masked,
    )
