"""What a sound slot pool looks like, shared by the hammers and the hypothesis machine."""

from __future__ import annotations

import datetime as dt

from fairslot.bookings.states import BookingStatus
from fairslot.ledger.events import EventKind
from fairslot.ledger.models import SlotEvent
from fairslot.schedules.states import SlotState

# The bookings that may occupy a slot in each state (no more than one, by the index).
SLOT_OCCUPANT: dict[SlotState, list[BookingStatus]] = {
    SlotState.OPEN: [],
    SlotState.COOLING: [],
    SlotState.RETIRED: [],
    SlotState.WITHDRAWN: [],
    SlotState.HELD: [BookingStatus.HELD],
    SlotState.BOOKED: [BookingStatus.BOOKED],
    SlotState.ATTENDED: [BookingStatus.CHECKED_IN],
    SlotState.NO_SHOW: [BookingStatus.NO_SHOW],
}

_E = EventKind
# The ledger rows carrying a booking's id, for each status it can be in.
BOOKING_HISTORIES: dict[BookingStatus, set[tuple[EventKind, ...]]] = {
    BookingStatus.HELD: {(_E.HELD,)},
    BookingStatus.BOOKED: {(_E.HELD, _E.BOOKED)},
    BookingStatus.EXPIRED: {(_E.HELD, _E.HOLD_EXPIRED, _E.COOLING)},
    BookingStatus.CANCELLED: {
        (_E.HELD, _E.HOLD_RELEASED, _E.COOLING),
        (_E.HELD, _E.BOOKED, _E.CANCELLED, _E.COOLING),
        (_E.HELD, _E.BOOKED, _E.CANCELLED, _E.RETIRED),
    },
    BookingStatus.CHECKED_IN: {(_E.HELD, _E.BOOKED, _E.CHECKED_IN)},
    BookingStatus.NO_SHOW: {(_E.HELD, _E.BOOKED, _E.NO_SHOW)},
    BookingStatus.WITHDRAWN: set(),  # neither the hammers nor the machine withdraw sessions
}


def assert_no_hold_while_cooling(events: list[SlotEvent], *, slot_id: str = "") -> None:
    """A cooled slot comes back only at or after its drawn re-release time: either
    claimed straight from COOLING by a request whose clock had reached ``reopen_at``, or
    settled to OPEN (``re_released``) by one whose clock had.

    Each event's ``at`` is its request's clock reading, taken before the request waited
    for its locks, so a hold on a slot another request already re-released may carry an
    earlier ``at`` than the re-release; that is not an early hold, hence the two cases.
    """
    reopen_at: dt.datetime | None = None
    for event in events:
        if event.kind == EventKind.COOLING:
            reopen_at = dt.datetime.fromisoformat(event.data["reopen_at"])
        elif event.kind == EventKind.RE_RELEASED:
            assert reopen_at is not None and event.recorded_at >= reopen_at, (
                f"slot {slot_id} re-released at {event.recorded_at}, due {reopen_at}"
            )
            reopen_at = None
        elif event.kind == EventKind.HELD and reopen_at is not None:
            assert event.at >= reopen_at, f"slot {slot_id} held at {event.at}, due {reopen_at}"
            reopen_at = None
