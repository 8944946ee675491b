"""Hospital-side use cases: the patient came (check-in) or did not (no-show)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from fairslot.bookings import repository as repo
from fairslot.bookings import transitions
from fairslot.bookings.errors import BookingNotFound, StateConflict
from fairslot.bookings.models import Booking
from fairslot.bookings.states import BookingStatus
from fairslot.context import RequestContext
from fairslot.schedules.models import ClinicSession

# Patients may check in from this long before the session until this long after it.
CHECK_IN_OPENS = timedelta(hours=12)
CHECK_IN_GRACE = timedelta(hours=2)


def check_in(
    db: Session,
    *,
    hospital_id: int,
    booking_id: str,
    now: datetime,
    ctx: RequestContext,
    presented_id_key: str | None = None,
) -> Booking:
    """The patient came. ``presented_id_key`` is the keyed hash of the ID card shown at the
    desk: when given, it must be the booked patient's, so the ledger says who really came
    (a bought slot used by someone else is refused here, not recorded as attended)."""
    booking, session = _hospital_booking(db, hospital_id=hospital_id, booking_id=booking_id)
    if presented_id_key is not None and presented_id_key != repo.patient_key(
        db, booking.patient_id
    ):
        raise StateConflict(
            "The ID card shown is not the booked patient's; a booking cannot be used by "
            "another person.",
            code="identity_mismatch",
        )
    if not session.starts_at - CHECK_IN_OPENS <= now <= session.ends_at + CHECK_IN_GRACE:
        raise StateConflict(
            "Check-in opens 12 hours before the session and closes two hours after it ends.",
            code="check_in_outside_session",
        )
    return _record(db, booking=booking, outcome=BookingStatus.CHECKED_IN, now=now, ctx=ctx)


def mark_no_show(
    db: Session, *, hospital_id: int, booking_id: str, now: datetime, ctx: RequestContext
) -> Booking:
    booking, session = _hospital_booking(db, hospital_id=hospital_id, booking_id=booking_id)
    if now < session.ends_at:
        raise StateConflict(
            "A no-show can be recorded only after the session has ended.",
            code="session_not_over",
        )
    return _record(db, booking=booking, outcome=BookingStatus.NO_SHOW, now=now, ctx=ctx)


def _record(
    db: Session, *, booking: Booking, outcome: BookingStatus, now: datetime, ctx: RequestContext
) -> Booking:
    key = repo.patient_key(db, booking.patient_id)
    assert key is not None
    transitions.record_attendance(
        db, booking=booking, outcome=outcome, patient_key=key, now=now, ctx=ctx
    )
    return booking


def _hospital_booking(
    db: Session, *, hospital_id: int, booking_id: str
) -> tuple[Booking, ClinicSession]:
    booking = repo.get_booking(db, booking_id)
    session = repo.get_session(db, booking.session_id) if booking else None
    # Another hospital's booking is reported as missing, not as forbidden.
    if booking is None or session is None or session.hospital_id != hospital_id:
        raise BookingNotFound("No booking with this id at this hospital.")
    return booking, session
