"""The phases of one simulated run of a mode, in order, and what they share.

The release day comes first (:class:`ReleaseDay`); on a platform the simulator started,
``afterday.phases_for`` appends what happens after it:

1. **Attendance** — the hospital checks in or marks as no-show each booking through the
   hospital API (``Wish.shows_up`` says who comes; scalper identities never do), with the
   platform's clock moved to the session date by restarting the server on its database.
2. **Daily risk batch** — ``fairslot risk run --date D`` on the platform's database, as the
   worker would (protected only: the baseline has no batch).
3. **Reviewer decisions** — a simulated reviewer takes the cases in turn through the staff
   API and decides from the evidence shown (``sim/review.py``); every reason says it was
   simulated. It sets ``RunContext.blocked`` to the scenario identities of the confirmed
   cases. The baseline's reviewer is :class:`afterday.NoReview`: nobody is blocked.
4. **Day 2** — the next release day with the same people, scalpers with some identifiers
   rotated (``generate.day_two``); it shows whether blocked actors get through.

Against a platform given by ``--url`` only the release day is played: the simulator
cannot move that platform's clock, so the detection figures stay null, with a note.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from fairslot.sim.modes import Mode
from fairslot.sim.runner import Day, Target, play_release_day
from fairslot.sim.scenario import Scenario
from fairslot.sim.server import LocalPlatform

NOT_CONNECTED = (
    "detection_precision, detection_recall and genuine_blocked are null: the after-the-day "
    "phases (attendance, batch, review, day 2) run only on a platform the simulator starts"
)


@dataclass(frozen=True)
class CaseSeen:
    """A case the simulated reviewer decided, and whom it was about (for the report)."""

    case_id: int
    subject_kind: str
    rules: tuple[str, ...]
    members: tuple[str, ...]  # scenario identities (person keys)
    confirmed: bool
    reason: str
    # everyone the case names: its members, and the persons of any account it names (a
    # case on an account worries the family behind it even when nothing is blocked)
    named: tuple[str, ...] = ()


@dataclass
class RunContext:
    """What the phases of one mode share and fill in."""

    target: Target
    scenario: Scenario
    mode: Mode
    release_at: datetime
    platform: LocalPlatform | None = None  # None: a platform given by --url
    second: Scenario | None = None  # the people of day 2
    day: Day | None = None  # set by the release day
    blocked: frozenset[str] | None = None  # set once reviewer decisions are taken
    day2: Day | None = None
    batch_runs: int = 0
    cases: list[CaseSeen] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


class Phase(Protocol):
    name: str

    async def run(self, ctx: RunContext) -> None: ...


class ReleaseDay:
    name = "release day"

    async def run(self, ctx: RunContext) -> None:
        ctx.day = await play_release_day(
            ctx.target, ctx.scenario, ctx.mode, release_at=ctx.release_at
        )
        ctx.notes.extend(ctx.day.notes)


PHASES: tuple[Phase, ...] = (ReleaseDay(),)


async def run_phases(ctx: RunContext, phases: tuple[Phase, ...] = PHASES) -> RunContext:
    for phase in phases:
        await phase.run(ctx)
    if ctx.blocked is None:
        ctx.notes.append(NOT_CONNECTED)
    return ctx
