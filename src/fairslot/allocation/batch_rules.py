"""The release batch's rules. Pure: no I/O.

Every hold that arrives in ``[release_at, release_at + window)`` for a session allocated
by a release batch counts as simultaneous (Hakimov, Heller, Kübler and Kurino, AER 2021):
it does not claim a slot, it enters the batch. One real person has one entry per
department-day: a repeated hold, or one from another account or channel for the same
patient, answers the entry already made. At the window's end the batch is drawn like a
release draw among its entries; the slots left then sell first-come.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from fairslot.allocation.states import IntentStatus

# The window's length is the hospital's setting within the platform's bounds; the
# channel-facing read shows the batch's end, so the rule sits below it, in hospitals.
from fairslot.hospitals.allocation_policy import DEFAULT_WINDOW_SECONDS as DEFAULT_WINDOW_SECONDS
from fairslot.hospitals.allocation_policy import MAX_WINDOW_SECONDS as MAX_WINDOW_SECONDS
from fairslot.hospitals.allocation_policy import MIN_WINDOW_SECONDS as MIN_WINDOW_SECONDS
from fairslot.hospitals.allocation_policy import window_seconds as window_seconds


@dataclass(frozen=True)
class Window:
    opens_at: datetime  # the release instant
    closes_at: datetime  # the batch is drawn from here; first-come after it has run

    def holds(self, now: datetime) -> bool:
        """Whether a hold arriving ``now`` is part of the batch."""
        return self.opens_at <= now < self.closes_at


def window(*, release_at: datetime, seconds: int) -> Window:
    return Window(opens_at=release_at, closes_at=release_at + timedelta(seconds=seconds))


class Arrival(enum.StrEnum):
    """Where a hold on a batch-mode session goes."""

    BEFORE = "before"  # not released: the slot does not exist yet (404, as for any hold)
    ENTER = "enter"  # in the window: an entry, not a claim
    DRAWING = "drawing"  # the window closed but the batch has not run: ask again shortly
    FIRST_COME = "first_come"  # the batch has run: the leftovers sell first-come


def arrival(*, now: datetime, window: Window, drawn: bool) -> Arrival:
    if drawn:
        return Arrival.FIRST_COME
    if now < window.opens_at:
        return Arrival.BEFORE
    if window.holds(now):
        return Arrival.ENTER
    return Arrival.DRAWING


class EntryAnswer(enum.StrEnum):
    NEW = "new"  # a first entry for this patient in the batch
    SAME = "same"  # already entered: the same entry is answered, no second chance


def entry_answer(*, existing: IntentStatus | None) -> EntryAnswer:
    """A patient's later holds in the same batch add nothing, whatever became of the
    first (refused for a block stays refused: a new request cannot undo it)."""
    return EntryAnswer.NEW if existing is None else EntryAnswer.SAME
