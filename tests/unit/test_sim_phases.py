"""The after-the-day extension point: a phase that knows who was blocked turns the
detection figures on; without one they stay null, with a note."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime

from fairslot.clock import AcceleratedClock
from fairslot.sim.accounting import DayLog, figures
from fairslot.sim.generate import build_scenario
from fairslot.sim.modes import Mode
from fairslot.sim.phases import NOT_CONNECTED, PHASES, Phase, ReleaseDay, RunContext, run_phases
from fairslot.sim.runner import Day, Target
from fairslot.sim.scenario import Klass, ScenarioParams

RELEASE = datetime(2026, 11, 21, 16, 30, tzinfo=UTC)


class HandMadeDay:
    """Stands in for the release day: two genuine patients, two grab identities."""

    name = "hand-made day"

    async def run(self, ctx: RunContext) -> None:
        log = DayLog(
            persons={
                "g1": Klass.GENUINE,
                "g2": Klass.GENUINE,
                "b1": Klass.GRAB_BOT,
                "b2": Klass.GRAB_BOT,
            },
            scarce_slots=4,
            requests=(),
            bookings=(),
            wishes=(),
            transfers=(),
        )
        ctx.day = Day(log=log, session_date=date(2026, 11, 29), release_at=RELEASE)


class Reviewer:
    name = "simulated reviewer"

    async def run(self, ctx: RunContext) -> None:
        ctx.blocked = frozenset({"b1", "g2"})


def context() -> RunContext:
    target = Target(
        url="http://127.0.0.1:1",
        channel_keys={},
        hospital_codes=(),
        hospital_keys=(),
        clock=AcceleratedClock(start=RELEASE, speed=1),
    )
    scenario = build_scenario(ScenarioParams.quick(), seed=1)
    return RunContext(target=target, scenario=scenario, mode=Mode.PROTECTED, release_at=RELEASE)


def test_without_an_after_the_day_phase_detection_is_reported_as_not_connected() -> None:
    ctx = asyncio.run(run_phases(context(), phases=(HandMadeDay(),)))
    assert ctx.blocked is None and NOT_CONNECTED in ctx.notes
    assert ctx.day is not None
    assert figures(ctx.day.log, blocked=ctx.blocked).detection_recall is None


def test_a_phase_that_sets_the_blocked_identities_turns_the_detection_figures_on() -> None:
    phases: tuple[Phase, ...] = (HandMadeDay(), Reviewer())
    ctx = asyncio.run(run_phases(context(), phases=phases))
    assert NOT_CONNECTED not in ctx.notes
    assert ctx.day is not None
    result = figures(ctx.day.log, blocked=ctx.blocked)
    assert (result.detection_precision, result.detection_recall, result.genuine_blocked) == (
        0.5,
        0.5,
        1,
    )


def test_the_run_starts_with_the_release_day() -> None:
    assert isinstance(PHASES[0], ReleaseDay)
