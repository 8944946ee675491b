"""States of release draws and their intents. Pure: no I/O."""

from __future__ import annotations

import enum


class AllocationMode(enum.StrEnum):
    FIRST_COME = "first_come"  # ordinary clinics: instant sale at release
    DRAW = "draw"  # scarce expert sessions: a verifiable draw at release
    # Holds in a short window after release count as simultaneous and are drawn among
    # the distinct patients who asked; the leftovers then sell first-come (batches.py).
    RELEASE_BATCH = "release_batch"


class DrawKind(enum.StrEnum):
    """What a ``draws`` row allocates: intents registered before release, or the holds
    that arrived in a release batch's window (the same machinery, the same proof)."""

    DRAW = "draw"
    RELEASE_BATCH = "release_batch"


class DrawStatus(enum.StrEnum):
    OPEN = "open"  # taking intents (commitment published)
    DRAWN = "drawn"  # done; seed revealed


class IntentStatus(enum.StrEnum):
    REGISTERED = "registered"
    WON = "won"  # booked by the draw
    LOST = "lost"  # pre-authorisation released
    REFUSED = "refused"  # failed a booking rule at draw time
    WITHDRAWN = "withdrawn"  # the patient withdrew before the draw
    # Pre-draw screening (screening.py): held out of the draw for review ("under review"
    # to the patient). Cleared before the draw it is REGISTERED again; cleared after, it is
    # WON or LOST as its place in the published order decides, or OWED.
    HELD = "held"
    OWED = "owed"  # cleared after the draw, its place had won: the next slot it accepts
