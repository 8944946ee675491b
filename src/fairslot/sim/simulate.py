"""One invocation of the simulator: the scenario played on each mode's platform, in turn,
and the figures of each."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from fairslot.schedules.release import local_to_utc
from fairslot.sim.accounting import Figures, blocked_identities, figures
from fairslot.sim.afterday import phases_for
from fairslot.sim.generate import day_two
from fairslot.sim.modes import Mode
from fairslot.sim.phases import PHASES, CaseSeen, Phase, RunContext, run_phases
from fairslot.sim.runner import Day, SimulationError, Target
from fairslot.sim.scenario import HOSPITAL_ZONE, SCALPER_CONTROLLED, Klass, Scenario
from fairslot.sim.server import DEFAULT_PG_ADMIN_URL, local_platform
from fairslot.sim.tactics import Judgement, TacticFigures, judgement, per_tactic

RELEASE_TIME = time(0, 30)  # the platform's default release time for a new hospital
MAX_REMOTE_WAIT_S = 120.0


@dataclass(frozen=True)
class ModeResult:
    mode: Mode
    figures: Figures
    day: Day
    notes: tuple[str, ...]
    day2: Day | None = None
    cases: tuple[CaseSeen, ...] = ()
    batch_runs: int = 0
    tactics: dict[str, TacticFigures] | None = None
    judgement: Judgement | None = None


@dataclass(frozen=True)
class Simulation:
    scenario: Scenario
    release_at: datetime
    results: dict[Mode, ModeResult]

    def as_json(self) -> dict[str, object]:
        scenario = self.scenario
        release_local = self.release_at.astimezone(ZoneInfo(HOSPITAL_ZONE))
        persons = scenario.persons.values()
        return {
            "seed": scenario.seed,
            "scenario": scenario.params.as_json()
            | {
                "release_at": release_local.isoformat(),
                "session_date": scenario.session_date(release_local.date()).isoformat(),
                "scarce_supply": scenario.scarce_supply,
                "scarce_demand": scenario.scarce_demand,
                "genuine_patients": sum(1 for p in persons if p.klass == Klass.GENUINE),
                "scalper_identities": sum(1 for p in persons if p.klass in SCALPER_CONTROLLED),
                "buyers": sum(1 for p in persons if p.klass == Klass.BUYER),
            },
            **{
                mode.value: (r.figures.as_json() if (r := self.results.get(mode)) else None)
                for mode in Mode
            },
            "after_day": {
                mode.value: {
                    "batch_runs": r.batch_runs,
                    "cases_decided": len(r.cases),
                    "cases_confirmed": sum(1 for c in r.cases if c.confirmed),
                    "day2_played": r.day2 is not None,
                }
                for mode, r in self.results.items()
            },
            "notes": {mode.value: list(r.notes) for mode, r in self.results.items()},
            "per_tactic": {
                mode.value: {name: t.as_json() for name, t in (r.tactics or {}).items()}
                for mode, r in self.results.items()
            },
            "judgement": {
                mode.value: r.judgement.as_json() if r.judgement else None
                for mode, r in self.results.items()
            },
        }


def release_instant(release_date: date) -> datetime:
    return local_to_utc(release_date, RELEASE_TIME, HOSPITAL_ZONE)


def simulate_local(
    scenario: Scenario,
    *,
    modes: tuple[Mode, ...],
    release_date: date,
    workdir: Path,
    db: str = "sqlite",
    pg_admin_url: str = DEFAULT_PG_ADMIN_URL,
) -> Simulation:
    """Start a fresh platform for each mode and play the day on it."""
    release_at = release_instant(release_date)
    # The clock starts a minute before the day does: the hospitals push at its start.
    clock_start = release_at - timedelta(minutes=scenario.params.lead_minutes + 1)
    results: dict[Mode, ModeResult] = {}
    for mode in modes:
        with local_platform(
            mode=mode,
            clock_start=clock_start,
            speed=scenario.params.speed,
            changes=scenario.params.clock_changes(release_at),
            workdir=workdir,
            db=db,
            pg_admin_url=pg_admin_url,
        ) as platform:
            assert platform.target is not None
            ctx = RunContext(
                target=platform.target,
                scenario=scenario,
                mode=mode,
                release_at=release_at,
                platform=platform,
                second=day_two(scenario),
            )
            results[mode] = _play(ctx, phases=phases_for(mode))
    return Simulation(scenario=scenario, release_at=release_at, results=results)


def simulate_remote(scenario: Scenario, *, target: Target, mode: Mode) -> Simulation:
    """Play on a platform already running on the simulation clock: the next release
    that leaves room for the day's lead, if it comes soon enough."""
    now = target.clock.now()
    ready = now + timedelta(minutes=scenario.params.lead_minutes)
    release_date = ready.astimezone(ZoneInfo(HOSPITAL_ZONE)).date()
    release_at = release_instant(release_date)
    if release_at < ready:
        release_at = release_instant(release_date + timedelta(days=1))
    wait = target.clock.real_seconds_until(
        release_at - timedelta(minutes=scenario.params.lead_minutes)
    )
    if wait > MAX_REMOTE_WAIT_S:
        start = release_at - timedelta(minutes=scenario.params.lead_minutes + 1)
        raise SimulationError(
            f"the platform's clock reads {now.isoformat()}; the next release day would start "
            f"in {wait:.0f} real seconds. Restart it with FAIRSLOT_SIM_CLOCK_START="
            f"{start.isoformat()} and FAIRSLOT_SIM_CLOCK_SPEED={scenario.params.speed}."
        )
    return Simulation(
        scenario=scenario,
        release_at=release_at,
        results={
            mode: _play(
                RunContext(target=target, scenario=scenario, mode=mode, release_at=release_at),
                phases=PHASES,
            )
        },
    )


def _play(ctx: RunContext, *, phases: tuple[Phase, ...]) -> ModeResult:
    ctx = asyncio.run(run_phases(ctx, phases=phases))
    assert ctx.day is not None  # the release day always runs
    days = [ctx.day.log] + ([ctx.day2.log] if ctx.day2 else [])
    blacklisted = ctx.blocked or frozenset()
    blocked = (
        None if ctx.blocked is None else blocked_identities(blacklisted=blacklisted, days=days)
    )
    result = figures(
        ctx.day.log,
        blocked=blocked,
        second=ctx.day2.log if ctx.day2 else None,
        blacklisted=blacklisted,
    )
    households = {p: h.key for h in ctx.scenario.households for p in h.account.persons}
    return ModeResult(
        mode=ctx.mode,
        figures=result,
        tactics=per_tactic(
            ctx.day.log,
            blocked=blocked,
            confirmed=[c.members for c in ctx.cases if c.confirmed],
            day2=ctx.day2.log if ctx.day2 else None,
        ),
        judgement=judgement(
            ctx.day.log,
            households=households,
            named=[c.named or c.members for c in ctx.cases],
            genuine_blocked=result.genuine_blocked,
        ),
        day=ctx.day,
        notes=tuple(ctx.notes),
        day2=ctx.day2,
        cases=tuple(ctx.cases),
        batch_runs=ctx.batch_runs,
    )
