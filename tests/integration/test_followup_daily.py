"""After the daily batch, the worker queues yesterday's follow-up call sample once, and only
once; on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import logging
import random
import threading
from collections.abc import Collection

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from factories.risk_batch import REPORT_DAY, Scenes
from factories.world import World, make_world
from fairslot.bootstrap import bootstrap
from fairslot.cli.worker_cmd import sweep_once
from fairslot.clock import ManualClock
from fairslot.config import Settings, load_settings
from fairslot.followup import daily, service
from fairslot.followup.models import CallTask
from fairslot.followup.states import CallReason
from fairslot.risk.models import RiskRun
from fairslot.staff.audit import cli_actor
from fairslot.staff.models import StaffAction


@pytest.fixture
def settings(database_url: str) -> Settings:
    # Every confirmed booking is sampled, so the test can name them.
    return load_settings(database_url=database_url, db_pool_size=5, followup_sample_rate=1.0)


@pytest.fixture
def world(db, platform) -> World:
    return make_world(db, platform)


def sample_tasks(world: World) -> list[str | None]:
    world.db.commit()
    found = world.db.scalars(
        select(CallTask.booking_id)
        .where(CallTask.reason == CallReason.SAMPLE)
        .order_by(CallTask.booking_id)
    )
    return list(found)


def sample_audits(world: World) -> list[tuple[str, str]]:
    world.db.commit()
    rows = world.db.execute(
        select(StaffAction.actor, StaffAction.target_id).where(StaffAction.action == "calls.sample")
    )
    return [tuple(r) for r in rows]  # type: ignore[misc]


def test_after_the_batch_the_worker_samples_yesterdays_bookings_once(world: World) -> None:
    scenes = Scenes(world)
    session = world.session(capacity=4)
    booked = sorted(scenes.book(scenes.person(), session).id for _ in range(3))
    world.platform.clock.set(scenes.local(REPORT_DAY + dt.timedelta(days=1), 1, 5))  # type: ignore[attr-defined]

    sweep_once(world.platform)
    sweep_once(world.platform)

    assert sample_tasks(world) == booked
    assert sample_audits(world) == [("worker", REPORT_DAY.isoformat())]
    assert world.db.scalar(select(RiskRun.run_date)) == REPORT_DAY  # the batch ran first


def test_before_the_run_time_yesterday_is_not_sampled(world: World) -> None:
    scenes = Scenes(world)
    scenes.book(scenes.person(), world.session(capacity=2))
    world.platform.clock.set(scenes.local(REPORT_DAY + dt.timedelta(days=1), 0, 50))  # type: ignore[attr-defined]

    sweep_once(world.platform)

    # 00:50 on the 23rd: the latest due day is the 21st, which had no bookings.
    assert sample_tasks(world) == []
    assert sample_audits(world) == [("worker", (REPORT_DAY - dt.timedelta(days=1)).isoformat())]


def test_a_day_sampled_by_hand_is_not_sampled_again_by_the_worker(world: World) -> None:
    scenes = Scenes(world)
    scenes.book(scenes.person(), world.session(capacity=2))
    service.sample(
        world.db,
        day=REPORT_DAY,
        rate=0.0,
        limit=0,
        rng=world.platform.rng,
        now=world.now(),
        tz="Asia/Shanghai",
        actor=cli_actor("desk"),
    )
    world.db.commit()
    world.platform.clock.set(scenes.local(REPORT_DAY + dt.timedelta(days=1), 2, 0))  # type: ignore[attr-defined]

    sweep_once(world.platform)

    assert sample_tasks(world) == []
    assert sample_audits(world) == [("cli:desk", REPORT_DAY.isoformat())]


def test_a_failing_sample_is_logged_and_retried_ten_minutes_later(
    settings: Settings, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    # An unreadable run time makes every attempt fail, as a broken database would.
    broken = bootstrap(settings.model_copy(update={"risk_run_local_time": "1am"}), clock=clock)
    try:
        with caplog.at_level(logging.ERROR, logger="fairslot.worker"):
            sweep_once(broken)
            sweep_once(broken)
            assert len([r for r in caplog.records if "sample failed" in r.message]) == 1
            clock.advance(dt.timedelta(minutes=11))
            sweep_once(broken)
        assert len([r for r in caplog.records if "sample failed" in r.message]) == 2
    finally:
        broken.engine.dispose()


def _disjoint_seeds(n: int, k: int) -> tuple[int, int]:
    """Two seeds whose draws of ``k`` of ``n`` positions do not overlap: two racing workers
    with these would each add a different half of the day, doubling the sample."""
    draws = {seed: set(random.Random(seed).sample(range(n), k)) for seed in range(200)}
    return next((a, b) for a in draws for b in draws if a < b and not draws[a] & draws[b])


def test_two_workers_racing_for_one_day_draw_one_sample(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    scenes = Scenes(world)
    session = world.session(capacity=6)
    for _ in range(6):
        scenes.book(scenes.person(), session)
    now = scenes.local(REPORT_DAY + dt.timedelta(days=1), 1, 5)
    half = world.platform.settings.model_copy(update={"followup_sample_rate": 0.5})
    seed_a, seed_b = _disjoint_seeds(6, 3)
    world.db.commit()

    first = world.platform.sessions()
    day = REPORT_DAY  # the batch's day, due at ``now``
    drawn = daily.sample_if_due(first, day=day, now=now, settings=half, rng=random.Random(seed_a))
    outcome: list[object] = []
    reading, read = threading.Event(), threading.Event()
    unread = daily.repo.sampled_days

    def sampled_days(db: Session, *, among: Collection[str]) -> set[str]:
        if threading.current_thread() is not racer:
            return unread(db, among=among)
        reading.set()
        found = unread(db, among=among)
        read.set()
        return found

    monkeypatch.setattr(daily.repo, "sampled_days", sampled_days)

    def second_worker() -> None:
        with world.platform.sessions() as db:
            try:
                outcome.append(
                    daily.sample_if_due(
                        db, day=day, now=now, settings=half, rng=random.Random(seed_b)
                    )
                )
                db.commit()
            except (IntegrityError, OperationalError) as lost:
                db.rollback()
                outcome.append(lost)

    racer = threading.Thread(target=second_worker)
    racer.start()
    # The first worker commits only once the second is racing: on PostgreSQL once the
    # second has read the day as not yet sampled (the first's rows are not committed); on
    # SQLite, where writers serialise at BEGIN, once the second is starting its read,
    # which waits for the first to commit. (A generous bound for a stuck thread only.)
    if world.db.get_bind().dialect.name == "sqlite":
        assert reading.wait(timeout=60)
    else:
        assert read.wait(timeout=60)
        assert outcome == []  # it read the day as free and has not finished
    first.commit()
    first.close()
    racer.join(timeout=60)
    assert not racer.is_alive()

    assert drawn is not None and len(drawn.created) == 3
    # PostgreSQL: the second claim of the day fails. SQLite: transactions begin with the
    # write lock, so the second worker waits, then finds the day sampled.
    [lost] = outcome
    assert lost is None or isinstance(lost, IntegrityError | OperationalError)
    assert len(sample_tasks(world)) == 3
    assert sample_audits(world) == [("worker", REPORT_DAY.isoformat())]
