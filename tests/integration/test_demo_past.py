"""The demo's past, replayed through the APIs (``demo/past.py``): what the platform
recorded matches what the replay did and what was planned, yesterday's batch still
finds only the scalper, and the quality figures have data. SQLite only: the demo's
backend. One demo is built for the module, on a clock fixed to a Wednesday morning."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fairslot.allocation.models import Draw, Intent
from fairslot.audit.models import RequestRecord
from fairslot.bookings.models import Booking
from fairslot.bootstrap import Platform, bootstrap
from fairslot.cases.models import Case
from fairslot.channels.models import Channel
from fairslot.clock import ManualClock
from fairslot.config import load_settings
from fairslot.db import migrate
from fairslot.db.engine import unit_of_work
from fairslot.demo.past import replay_past
from fairslot.demo.past_journeys import PastReport
from fairslot.demo.past_plan import CANCELLATIONS, NO_SHOWS, OVERSUBSCRIBED_BY, PAST_DAYS
from fairslot.demo.seed import DemoSeed, seed_demo
from fairslot.hospitals.models import Hospital
from fairslot.metrics import service as metrics
from fairslot.risk.models import RiskAlert
from fairslot.schedules.models import ClinicSession, Slot

ZONE = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)  # a Wednesday, 10:00 in Beijing
TODAY = date(2026, 11, 25)
YESTERDAY = TODAY - timedelta(days=1)


@dataclass
class Demo:
    platform: Platform
    seeded: DemoSeed
    past: PastReport


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    path: Path = tmp_path_factory.mktemp("demo-past") / "demo.db"
    platform = bootstrap(load_settings(database_url=f"sqlite:///{path}"), clock=ManualClock(NOW))
    migrate.upgrade(platform.engine)
    with unit_of_work(platform.sessions) as db:
        seeded = seed_demo(
            db,
            now=platform.clock.now(),
            rng=random.Random(2026),
            protector=platform.protector,
            settings=platform.settings,
        )
    past = replay_past(platform, seeded, seed=2026)
    yield Demo(platform, seeded, past)
    platform.engine.dispose()


@pytest.fixture
def db(demo: Demo) -> Iterator[Session]:
    with demo.platform.sessions() as session:
        yield session


def _local_day(at: datetime) -> date:
    return at.astimezone(ZONE).date()


def _past_accounts(db: Session) -> set[int]:
    """The accounts opened through the channel API (the seed opens its own directly)."""
    return {
        a
        for a in db.scalars(
            select(RequestRecord.account_id).where(
                RequestRecord.action == "register_account", RequestRecord.outcome == "ok"
            )
        )
        if a is not None
    }


def _past_bookings(db: Session) -> list[Booking]:
    return list(db.scalars(select(Booking).where(Booking.account_id.in_(_past_accounts(db)))))


def test_every_day_of_the_fortnight_has_channel_requests_up_to_yesterday(
    demo: Demo, db: Session
) -> None:
    records = list(db.scalars(select(RequestRecord)))
    days = Counter(_local_day(r.at) for r in records)
    assert len(records) == demo.past.requests
    for n in range(1, PAST_DAYS + 1):
        assert days[TODAY - timedelta(days=n)] > 0, TODAY - timedelta(days=n)
    assert max(days) == YESTERDAY  # nothing from today or later
    refused = Counter(r.outcome for r in records if r.outcome != "ok")
    assert refused == demo.past.refused
    for code in ("slot_taken", "session_full", "rate_limited", "request_blocked", "no_show_ban"):
        assert refused[code] > 0, code


def test_bookings_confirmations_cancellations_and_visits_match_the_replay_and_the_plan(
    demo: Demo, db: Session
) -> None:
    bookings = _past_bookings(db)
    statuses = Counter(b.status.value for b in bookings)
    past = demo.past
    assert len(bookings) == past.held + past.drawn
    assert sum(1 for b in bookings if b.booked_at is not None) == past.confirmed
    assert statuses["cancelled"] == past.cancelled == CANCELLATIONS
    assert statuses["no_show"] == past.no_shows == NO_SHOWS
    assert statuses["checked_in"] == past.checked_in >= 25
    assert statuses["expired"] == past.lapsed == 4
    assert statuses["held"] == 0  # every lapsed hold was swept
    assert past.confirmed >= 70 and past.households >= 30 and past.patients >= 50
    # Visits were recorded on their session's day, by the hospital, in the past.
    for booking in bookings:
        if booking.status.value in ("checked_in", "no_show"):
            assert booking.ended_at is not None
            assert _local_day(booking.ended_at) == booking.session_date < TODAY


def test_at_yesterdays_release_the_draws_were_run_and_an_expert_clinic_sold_out(
    demo: Demo, db: Session
) -> None:
    assert demo.past.big_release == YESTERDAY  # it released next Tuesday, not a Sunday
    released = TODAY + timedelta(days=6)
    draws = list(db.scalars(select(Draw).where(Draw.session_date == released)))
    assert draws and all(d.status.value == "drawn" for d in draws)
    assert all(_local_day(d.drawn_at) == YESTERDAY for d in draws if d.drawn_at)
    outcomes = Counter(
        i.status.value
        for i in db.scalars(select(Intent).where(Intent.draw_id.in_([d.id for d in draws])))
    )
    assert outcomes["lost"] == OVERSUBSCRIBED_BY and outcomes["won"] >= 10

    sold_out = [
        s
        for s in db.scalars(select(ClinicSession).where(ClinicSession.session_date == released))
        if s.capacity
        and db.scalar(
            select(func.count())
            .select_from(Slot)
            .where(Slot.session_id == s.id, Slot.state == "booked")
        )
        == s.capacity
    ]
    assert len(sold_out) == 1
    taken = [
        b.booked_at
        for b in db.scalars(select(Booking).where(Booking.session_id == sold_out[0].id))
        if b.channel_id != _window(db)
    ]
    release = datetime(YESTERDAY.year, YESTERDAY.month, YESTERDAY.day, 0, 30, tzinfo=ZONE)
    assert taken and max(t for t in taken if t) - release < timedelta(minutes=3)


def test_yesterdays_batch_still_finds_only_the_scalper_and_the_queue_shows_him_first(
    demo: Demo, db: Session
) -> None:
    alerts = list(db.scalars(select(RiskAlert).where(RiskAlert.run_date == YESTERDAY)))
    assert Counter(a.rule for a in alerts) == {
        "same_payment_same_department": 1,
        # The cancelling patient of the day before (``demo/desk.py``), seen again now
        # that the batch reads the whole of yesterday's window.
        "cancellations_without_visit": 1,
    }
    cases = list(db.scalars(select(Case)))
    assert [(c.subject_kind, c.status.value) for c in cases if c.status.value == "open"] == [
        ("payment_account", "open")
    ]
    assert len(cases) == 2  # the scalper's and the cancelling patient's, no other


def test_the_quality_figures_of_the_month_to_yesterday_have_data(demo: Demo, db: Session) -> None:
    platform = demo.platform
    report = metrics.quality(
        db,
        date_from=YESTERDAY - timedelta(days=29),
        date_to=YESTERDAY,
        tz=str(ZONE),
        now=NOW,
        protector=platform.protector,
    )
    f = report.overall
    assert f.attempts >= 60 and f.success_rate is not None and 0.7 < f.success_rate < 1
    assert f.time_to_book_median_s is not None and f.time_to_book_p90_s is not None
    assert f.time_to_book_median_s < f.time_to_book_p90_s
    assert f.dau_mean > 0 and f.dau_last_day > 0 and f.mau >= 30
    assert f.retention_7d is not None and f.retention_7d_cohort >= 20
    assert f.no_show_rate is not None and f.no_shows == NO_SHOWS
    assert f.scarce_taken > 0
    assert {h.code for h in report.hospitals} == {h.code for h in db.scalars(select(Hospital))}


def _window(db: Session) -> int | None:
    return db.scalar(select(Channel.id).where(Channel.code == "window"))
