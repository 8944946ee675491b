from __future__ import annotations

from fairslot.errors import Conflict, DomainError, Forbidden, NotFound


class StateConflict(Conflict):
    code = "state_conflict"


class SlotUnavailable(Conflict):
    """The slot cannot be had right now (taken, cooling, not released, closed)."""

    code = "slot_unavailable"


class BookingRefused(DomainError):
    """A booking rule says no; the finer code names the rule."""

    code = "booking_refused"
    status = 422


class BookingNotFound(NotFound):
    code = "booking_not_found"


class NotYourBooking(Forbidden):
    code = "not_your_booking"
