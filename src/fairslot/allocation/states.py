"""States of release draws and their intents. Pure: no I/O."""

from __future__ import annotations

import enum


class AllocationMode(enum.StrEnum):
    FIRST_COME = "first_come"  # ordinary clinics: instant sale at release
    DRAW = "draw"  # scarce expert sessions: a verifiable draw at release


class DrawStatus(enum.StrEnum):
    OPEN = "open"  # taking intents (commitment published)
    DRAWN = "drawn"  # done; seed revealed


class IntentStatus(enum.StrEnum):
    REGISTERED = "registered"
    WON = "won"  # booked by the draw
    LOST = "lost"  # pre-authorisation released
    REFUSED = "refused"  # failed a booking rule at draw time
    WITHDRAWN = "withdrawn"  # the patient withdrew before the draw
