"""The kinds of slot-ledger event. Pure: no I/O."""

from __future__ import annotations

import enum


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
