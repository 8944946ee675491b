"""The kinds of slot-ledger event. Pure: no I/O."""

from __future__ import annotations

import enum
from typing import Any, NamedTuple


class EventKind(enum.StrEnum):
    PUSHED = "pushed"
    RELEASED = "released"
    HELD = "held"
    HOLD_EXPIRED = "hold_expired"
    HOLD_RELEASED = "hold_released"
    BOOKED = "booked"
    CANCELLED = "cancelled"
    COOLING = "cooling"
    RETIRED = "retired"
    RE_RELEASED = "re_released"
    CHECKED_IN = "checked_in"
    NO_SHOW = "no_show"
    WITHDRAWN = "withdrawn"


class Entry(NamedTuple):
    """One row to append to a slot's ledger; who acted and when are the caller's
    (``service.record_many``)."""

    slot_id: str
    kind: EventKind
    data: dict[str, Any]
