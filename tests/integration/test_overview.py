"""The Today overview's queries on SQLite and PostgreSQL, against a hand-checked release
day (``factories/release_day.py`` lists what it holds)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from factories.release_day import RELEASED_TODAY, TODAY, YESTERDAY, ReleaseDay, release_day
from factories.report_data import local
from factories.world import RELEASED_DAY, UNRELEASED_DAY, World
from fairslot.overview import service as overview
from fairslot.overview.schemas import FillLine, HospitalDay, Today
from fairslot.staff.models import StaffAction

ZONE = "Asia/Shanghai"


@pytest.fixture
def day(world: World) -> ReleaseDay:
    return release_day(world)


@pytest.fixture
def view(day: ReleaseDay) -> Today:
    found = overview.today(day.world.db, now=day.world.now(), zone=ZONE)
    day.world.db.commit()
    return found


def hospital(view: Today, code: str) -> HospitalDay:
    return next(h for h in view.hospitals if h.code == code)


def test_each_hospital_shows_what_it_released_today_and_its_next_release(
    day: ReleaseDay, view: Today
) -> None:
    a = hospital(view, day.world.hospital.code)
    assert a.today == TODAY
    assert [(r.release_at, r.session_date, r.sessions) for r in a.released] == [
        (local(TODAY, "00:30"), RELEASED_TODAY, 3)
    ]
    assert a.next_release.release_at == local(TODAY, "00:30", plus_days=1)
    assert a.next_release.session_date == UNRELEASED_DAY
    assert a.next_release.days_ahead == 7
    assert a.next_release.sessions_pushed == 2


def test_a_hospital_releasing_later_in_the_day_has_released_nothing_yet(
    day: ReleaseDay, view: Today
) -> None:
    b = hospital(view, day.late_hospital.code)
    assert b.released == []
    assert b.next_release.release_at == local(TODAY, "09:00")
    assert b.next_release.session_date == RELEASED_TODAY
    assert b.next_release.sessions_pushed == 1
    assert b.draws == [] and b.fill == []


def test_todays_draw_is_run_and_verified_and_tomorrows_is_pending(
    day: ReleaseDay, view: Today
) -> None:
    lines = hospital(view, day.world.hospital.code).draws
    assert [(d.draw_id, d.session_date, d.status, d.intents, d.verified) for d in lines] == [
        (day.draw.id, RELEASED_TODAY, "run", 4, True),
        (day.pending_draw.id, UNRELEASED_DAY, "pending", 0, None),
    ]
    assert lines[0].due_at == local(TODAY, "00:30")
    assert lines[0].drawn_at == day.world.now()
    assert len(day.winners) == 3


def test_a_draw_the_worker_missed_is_overdue(day: ReleaseDay) -> None:
    world = day.world
    world.platform.clock.set(local(TODAY, "00:31", plus_days=1))  # type: ignore[attr-defined]
    found = overview.today(world.db, now=world.now(), zone=ZONE)
    lines = hospital(found, world.hospital.code).draws
    # Tomorrow is today now: yesterday's run draw is gone, the missed one is overdue.
    assert [(d.draw_id, d.status) for d in lines] == [(day.pending_draw.id, "overdue")]


def test_scarce_fill_counts_draw_mode_sessions_and_sold_out_ones(
    day: ReleaseDay, view: Today
) -> None:
    fill = hospital(view, day.world.hospital.code).fill
    by_department = {line.department_id: line for line in fill}
    assert by_department == {
        day.draw_department.id: FillLine(
            department_id=day.draw_department.id,
            department_name=day.draw_department.name,
            draw_mode=True,
            sessions=1,
            sold_out=1,
            booked=3,
            held=0,
            total=3,
        ),
        # Its session of 2 slots with a cancelled booking (1 open, 1 cooling) and its
        # free sessions of the 29th are not scarce: only the sold-out one counts.
        day.world.department.id: FillLine(
            department_id=day.world.department.id,
            department_name=day.world.department.name,
            draw_mode=False,
            sessions=1,
            sold_out=1,
            booked=1,
            held=0,
            total=1,
        ),
        day.other_department.id: FillLine(
            department_id=day.other_department.id,
            department_name=day.other_department.name,
            draw_mode=False,
            sessions=1,
            sold_out=1,
            booked=0,
            held=1,
            total=1,
        ),
    }
    assert fill[0].draw_mode  # draw-mode departments first


def test_a_session_that_has_ended_leaves_the_fill(day: ReleaseDay) -> None:
    world = day.world
    world.platform.clock.set(local(RELEASED_DAY, "23:00"))  # type: ignore[attr-defined]
    found = overview.today(world.db, now=world.now(), zone=ZONE)
    fill = hospital(found, world.hospital.code).fill
    assert [line.department_id for line in fill] == [day.draw_department.id]


def test_queues_count_undecided_cases_and_calls_not_made(view: Today) -> None:
    q = view.queues
    assert (q.cases_open, q.cases_in_review, q.cases_awaiting_call, q.cases) == (2, 1, 1, 4)
    assert (q.calls_pending, q.calls_taken, q.calls) == (2, 1, 3)


def test_yesterdays_batch_counts_its_alerts_and_the_cases_it_opened(view: Today) -> None:
    batch = view.batch
    assert batch.day == YESTERDAY
    assert batch.ran and batch.finished
    assert (batch.alerts, batch.cases_opened, batch.rings_flagged) == (3, 1, 1)


def test_a_day_the_batch_did_not_run_says_so(day: ReleaseDay) -> None:
    world = day.world
    world.platform.clock.set(local(TODAY, "08:00", plus_days=2))  # type: ignore[attr-defined]
    batch = overview.today(world.db, now=world.now(), zone=ZONE).batch
    assert batch.day == TODAY + dt.timedelta(days=1)
    assert not batch.ran and batch.alerts == 0 and batch.cases_opened == 0


def test_reading_the_overview_changes_nothing(day: ReleaseDay) -> None:
    db = day.world.db
    before = db.scalar(select(func.count()).select_from(StaffAction))
    overview.today(db, now=day.world.now(), zone=ZONE)
    assert not db.new and not db.dirty
    db.commit()
    assert db.scalar(select(func.count()).select_from(StaffAction)) == before
