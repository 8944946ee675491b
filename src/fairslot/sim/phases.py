"""The phases of one simulated run of a mode, in order.

``PHASES`` is the release day followed by ``AFTER_DAY``. The after-the-day phase is the
extension point for the review loop of issue 4; each step is a :class:`Phase` appended
to ``AFTER_DAY``, in this order:

1. **Attendance** — the hospital checks in or marks as no-show each booking through the
   hospital API (``Wish.shows_up`` says who comes; scalper identities sold on never do).
   The sessions lie seven days ahead, so this step needs the platform's clock moved to
   the session date (a local platform can be restarted on the same database with a new
   ``FAIRSLOT_SIM_CLOCK_START``).
2. **Daily risk batch** — ``fairslot risk run --date D`` on the platform's database (not
   in the baseline: it has no batch).
3. **Reviewer decisions** — a simulated reviewer takes the cases in turn through the staff
   API (``/staff/v1/cases/next``, ``/confirm`` …), decides on the evidence shown, and every
   decision says it was simulated. The step sets ``RunContext.blocked`` to the scenario
   identities (person keys) the decisions blocked, directly or through a shared phone,
   device, network or payment account.
4. **Day 2** — the next release day with the same actors; blocked scalpers rotate to
   fresh identities, genuine patients come back; it shows whether blocked actors return.

The accounting for ``detection_precision``, ``detection_recall`` and ``genuine_blocked``
is written and tested (``accounting.detect``); until a phase sets ``blocked`` those figures
are reported as null with a note, never estimated.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from fairslot.sim.modes import Mode
from fairslot.sim.runner import Day, Target, play_release_day
from fairslot.sim.scenario import Scenario

NOT_CONNECTED = (
    "detection_precision, detection_recall and genuine_blocked are null: the daily risk "
    "batch and the reviewer decisions are not connected to the simulator yet"
)


@dataclass
class RunContext:
    """What the phases of one mode share and fill in."""

    target: Target
    scenario: Scenario
    mode: Mode
    release_at: datetime
    day: Day | None = None  # set by the release day
    blocked: frozenset[str] | None = None  # set once reviewer decisions are taken
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


AFTER_DAY: tuple[Phase, ...] = ()
PHASES: tuple[Phase, ...] = (ReleaseDay(), *AFTER_DAY)


async def run_phases(ctx: RunContext, phases: tuple[Phase, ...] = PHASES) -> RunContext:
    for phase in phases:
        await phase.run(ctx)
    if ctx.blocked is None:
        ctx.notes.append(NOT_CONNECTED)
    return ctx
