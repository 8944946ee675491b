"""The demo's past two weeks, replayed through the platform's own code paths.

``seed_demo`` fills the platform as it is now; this module gives it a past. A second
platform on the same engine runs on a :class:`ManualClock` set to each moment of the plan
(``demo/past_plan.py``): the hospitals' systems push their schedules and record visits,
the households' apps browse, hold, pay, register for draws and cancel, all over HTTP to the
platform's app in this process (``demo/inprocess.py``), so every request record, booking,
ledger event and hospital notification carries its past time, and the gate, the rate
limits (counted on the replay clock) and the booking rules answer as they would have. The
worker's jobs run when they fell due: each release's draws, and the sweeps of lapsed holds
and cooled slots. Last, what is due now is run (today's draws) and yesterday's risk batch
is run again over the whole of yesterday.

Deterministic for a seed: the plan, the choices people make from what they are shown, the
platform's random delays. (Draw seeds are secret by design, so who wins an oversubscribed
draw varies; how many win does not.)
"""

from __future__ import annotations

import heapq
import itertools
import random
from collections.abc import Callable, Iterator
from datetime import date, datetime, time, timedelta
from functools import partial
from zoneinfo import ZoneInfo

from fairslot.allocation.worker import run_due_draws
from fairslot.api.app import create_app
from fairslot.bookings.policy import booking_policy
from fairslot.bootstrap import Platform, bootstrap
from fairslot.clock import ManualClock
from fairslot.db.engine import unit_of_work
from fairslot.demo.desk import GRAB_DEVICE, GRAB_NETWORK
from fairslot.demo.inprocess import app_client
from fairslot.demo.pages import seed_pages
from fairslot.demo.past_journeys import PastReport, Replay, Steps
from fairslot.demo.past_plan import PastPlan, local
from fairslot.demo.past_planner import plan_past
from fairslot.demo.scalpers import DEMO_ACTOR
from fairslot.demo.seed import DemoSeed
from fairslot.gate.ratelimit import MemoryWindows, RateLimiter
from fairslot.hospitals import repository as hospitals_repo
from fairslot.risk.daily import run_configured
from fairslot.waitlist.sweeps import sweep

DRAWS_AFTER_RELEASE = timedelta(seconds=5)  # the worker wakes every few seconds
SWEEPS = (time(12, 0), time(23, 59, 30))  # lapsed holds expire, cooled slots reopen


def replay_past(platform: Platform, seeded: DemoSeed, *, seed: int) -> PastReport:
    """Give a freshly seeded demo platform its past; returns what was done. Commits (one
    transaction per request and per worker job, as the platform does)."""
    today = seeded.example.report_date + timedelta(days=1)
    zone = ZoneInfo(platform.settings.default_timezone)
    plan = plan_past(
        today=today,
        clinics=seeded.clinics,
        zone=zone,
        rng=random.Random(f"fairslot-demo-past:{seed}"),
        grab_device=GRAB_DEVICE,
        grab_network=GRAB_NETWORK,
    )
    report = PastReport(days=len(plan.days), big_release=plan.big_release)
    if plan.sold_out is not None:
        clinic = plan.sold_out
        report.sold_out = (
            f"{clinic.hospital} {clinic.department.name}, {clinic.doctor.name} "
            f"{clinic.spec.session_date} {clinic.spec.period.value}"
        )
    clock = ManualClock(min(plan.joins[0][0], plan.pushes[0].at))
    past = _past_platform(platform, clock=clock, rng=random.Random(f"fairslot-demo-clock:{seed}"))
    with app_client(create_app(past)) as client:
        replay = Replay(
            client=client,
            clock=clock,
            rng=random.Random(f"fairslot-demo-people:{seed}"),
            channel_keys={c.code: c.key for c in seeded.channels},
            hospital_keys={h.code: h.key for h in seeded.hospitals},
            departments=_departments(platform),
            households={h.key: h for h in plan.households},
            zone=zone,
            end=local(today, time(0), zone),
            report=report,
        )
        timeline = Timeline(clock)
        _schedule(timeline, plan=plan, replay=replay, past=past, zone=zone)
        timeline.run()
    _catch_up(platform, yesterday=seeded.example.report_date, seed=seed)
    if seeded.pages is not None:
        # Now, not at the seed: the past's households chose from what they were shown.
        with unit_of_work(platform.sessions) as db:
            hospital = hospitals_repo.by_code(db, seeded.example.hospital)
            if hospital is not None:
                seed_pages(
                    db,
                    pages=seeded.pages,
                    hospital=hospital,
                    staff=seeded.clinics[seeded.example.hospital],
                    now=platform.clock.now(),
                    rng=random.Random(f"fairslot-demo-pages:{seed}"),
                    protector=platform.protector,
                    settings=platform.settings,
                )
    return report


class Timeline:
    """Steps in time order: each runs at its moment, on the clock, then says when next."""

    def __init__(self, clock: ManualClock) -> None:
        self._clock = clock
        self._queue: list[tuple[datetime, int, Steps]] = []
        self._order = itertools.count()

    def at(self, when: datetime, steps: Steps) -> None:
        heapq.heappush(self._queue, (when, next(self._order), steps))

    def once(self, when: datetime, action: Callable[[], object]) -> None:
        self.at(when, _once(action))

    def run(self) -> None:
        while self._queue:
            when, _, steps = heapq.heappop(self._queue)
            # Never backwards: a step that asks for a moment already past runs now.
            self._clock.set(max(when, self._clock.now()))
            following = next(steps, None)
            if following is not None:
                self.at(following, steps)


def _once(action: Callable[[], object]) -> Iterator[datetime]:
    action()
    yield from ()


def _schedule(
    timeline: Timeline, *, plan: PastPlan, replay: Replay, past: Platform, zone: ZoneInfo
) -> None:
    for push in plan.pushes:
        sessions = [s for s in plan.sessions[push.hospital] if s.session_date == push.day]
        timeline.once(push.at, partial(replay.push, push, sessions))
    for at, household in plan.joins:
        timeline.at(at, replay.join(household))
    for journey in plan.journeys:
        timeline.at(replay.start_of(journey), replay.journey(journey))
    if plan.radar is not None:
        timeline.at(plan.radar.at, replay.radar(plan.radar))
    for release in plan.releases:
        timeline.once(release + DRAWS_AFTER_RELEASE, partial(_draws, past))
    for day in plan.days:
        for moment in SWEEPS:
            timeline.once(local(day, moment, zone), partial(_sweep, past))


def _draws(platform: Platform) -> None:
    """The worker runs the release draws that fell due."""
    with unit_of_work(platform.sessions) as db:
        run_due_draws(
            db,
            now=platform.clock.now(),
            policy=booking_policy(platform.settings),
            rng=platform.rng,
            protector=platform.protector,
            desk=platform.screening_desk,
        )


def _sweep(platform: Platform) -> None:
    """The worker expires lapsed holds and re-releases cooled slots."""
    with unit_of_work(platform.sessions) as db:
        sweep(
            db,
            now=platform.clock.now(),
            policy=booking_policy(platform.settings),
            rng=platform.rng,
        )


def _past_platform(platform: Platform, *, clock: ManualClock, rng: random.Random) -> Platform:
    """The same platform on the replay clock; its rate limits count on that clock too, so
    a burst in the past is throttled as it was, and a fortnight replayed in seconds is
    not one long burst. The fortnight replays the plan's first-come history as it
    happened, so the platform's caution about clinics without history
    (``scarce_without_history``) is off for it; from today it applies, on that history."""
    settings = platform.settings.model_copy(update={"scarce_without_history": False})
    past = bootstrap(settings, clock=clock, rng=rng, engine=platform.engine)
    past.limiter = RateLimiter(
        limits=platform.settings.rate_limits,
        windows=MemoryWindows(now=lambda: clock.now().timestamp()),
        enabled=platform.settings.rate_limit_enabled,
    )
    return past


def _departments(platform: Platform) -> dict[tuple[str, str], int]:
    """(hospital code, department code) -> id: what a channel's app knows from the
    catalogue it shows."""
    with unit_of_work(platform.sessions) as db:
        return {
            (hospital.code, department.code): department.id
            for hospital in hospitals_repo.list_hospitals(db)
            for department in hospitals_repo.list_departments(db, hospital_id=hospital.id)
        }


def _catch_up(platform: Platform, *, yesterday: date, seed: int) -> None:
    """What the worker does now: today's due draws; and yesterday's batch again, now
    that yesterday's channel requests are in (a re-run adds only what is new)."""
    with unit_of_work(platform.sessions) as db:
        now = platform.clock.now()
        run_due_draws(
            db,
            now=now,
            policy=booking_policy(platform.settings),
            rng=random.Random(f"fairslot-demo-today:{seed}"),
            protector=platform.protector,
            desk=platform.screening_desk,
        )
        run_configured(
            db,
            day=yesterday,
            now=now,
            settings=platform.settings,
            actor=DEMO_ACTOR,
            protector=platform.protector,
        )
