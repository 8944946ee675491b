"""Slot states and the one table of allowed transitions. Pure: no I/O."""

from __future__ import annotations

import enum


class SlotState(enum.StrEnum):
    OPEN = "open"  # free (visible once released)
    HELD = "held"  # a patient holds it, awaiting payment
    BOOKED = "booked"
    COOLING = "cooling"  # cancelled; invisible to all until its drawn re-release time
    RETIRED = "retired"  # cancelled where returns are off (the window); never sold again
    ATTENDED = "attended"
    NO_SHOW = "no_show"
    WITHDRAWN = "withdrawn"  # the hospital withdrew it


class SessionStatus(enum.StrEnum):
    ACTIVE = "active"
    WITHDRAWN = "withdrawn"


class Period(enum.StrEnum):
    MORNING = "am"
    AFTERNOON = "pm"
    EVENING = "evening"


SLOT_TRANSITIONS: dict[SlotState, frozenset[SlotState]] = {
    # OPEN -> COOLING: supply pushed after its release time is released after a random
    # delay (late supply), like a returned slot.
    SlotState.OPEN: frozenset({SlotState.HELD, SlotState.COOLING, SlotState.WITHDRAWN}),
    # A hold that lapses or is released cools (never straight back to OPEN).
    SlotState.HELD: frozenset({SlotState.BOOKED, SlotState.COOLING, SlotState.WITHDRAWN}),
    SlotState.BOOKED: frozenset(
        {
            SlotState.COOLING,
            SlotState.RETIRED,
            SlotState.ATTENDED,
            SlotState.NO_SHOW,
            SlotState.WITHDRAWN,
        }
    ),
    # A cooling slot whose re-release time has passed is claimed straight from COOLING
    # (the re-release is computed from the clock), or settled to OPEN by a sweep.
    SlotState.COOLING: frozenset({SlotState.OPEN, SlotState.HELD, SlotState.WITHDRAWN}),
    SlotState.RETIRED: frozenset({SlotState.WITHDRAWN}),
    SlotState.ATTENDED: frozenset(),
    SlotState.NO_SHOW: frozenset(),
    SlotState.WITHDRAWN: frozenset(),
}

FREE_STATES = frozenset({SlotState.OPEN, SlotState.COOLING})


def can_transition(current: SlotState, target: SlotState) -> bool:
    return target in SLOT_TRANSITIONS[current]
