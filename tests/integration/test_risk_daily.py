"""The worker runs yesterday's anomaly batch once its run time has passed, and only once."""

from __future__ import annotations

import datetime as dt
import logging

import pytest
from sqlalchemy import select

from factories.risk_batch import REPORT_DAY, Scenes
from factories.world import World, make_world
from fairslot.bookings.sweeps import SweepReport
from fairslot.bootstrap import bootstrap
from fairslot.cli.worker_cmd import sweep_once
from fairslot.clock import ManualClock
from fairslot.config import Settings
from fairslot.risk.models import RiskAlert, RiskRun


@pytest.fixture
def world(db, platform) -> World:
    return make_world(db, platform)


def runs(world: World) -> list[tuple[dt.date, int, str]]:
    world.db.commit()
    found = world.db.scalars(select(RiskRun).order_by(RiskRun.run_date))
    return [(r.run_date, r.runs, r.actor) for r in found]


def test_after_one_oclock_the_worker_runs_yesterdays_batch_once(world: World) -> None:
    scenes = Scenes(world)
    session = world.session(capacity=6)
    for _ in range(5):
        scenes.book(scenes.person(payer="6222020099998888"), session)
    world.platform.clock.set(scenes.local(REPORT_DAY + dt.timedelta(days=1), 1, 5))  # type: ignore[attr-defined]

    sweep_once(world.platform)
    sweep_once(world.platform)

    assert runs(world) == [(REPORT_DAY, 1, "worker")]
    rules = set(world.db.scalars(select(RiskAlert.rule).where(RiskAlert.run_date == REPORT_DAY)))
    # one card paying for five people in five accounts: the paper's rule and the
    # operator rule (payment across accounts) both see it
    assert rules == {"same_payment_same_department", "payment_across_accounts"}


def test_before_one_oclock_yesterday_is_not_due_yet(world: World) -> None:
    scenes = Scenes(world)
    day_before = REPORT_DAY - dt.timedelta(days=1)
    scenes.run(day_before)  # last night's run
    world.platform.clock.set(scenes.local(REPORT_DAY + dt.timedelta(days=1), 0, 50))  # type: ignore[attr-defined]

    sweep_once(world.platform)

    assert runs(world) == [(day_before, 1, "test")]


def test_a_failing_batch_never_stops_the_sweep_and_is_retried_ten_minutes_later(
    settings: Settings, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    # An unreadable run time makes every attempt fail, as a broken database would.
    broken = bootstrap(settings.model_copy(update={"risk_run_local_time": "1am"}), clock=clock)
    try:
        with caplog.at_level(logging.ERROR, logger="fairslot.worker"):
            assert isinstance(sweep_once(broken), SweepReport)
            sweep_once(broken)
            assert len([r for r in caplog.records if "risk batch failed" in r.message]) == 1
            clock.advance(dt.timedelta(minutes=11))
            sweep_once(broken)
        assert len([r for r in caplog.records if "risk batch failed" in r.message]) == 2
    finally:
        broken.engine.dispose()
