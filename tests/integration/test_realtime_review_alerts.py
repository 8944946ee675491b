"""The daily batch files the real-time gate's review and block decisions of its report day
as ``realtime_review`` alerts, into cases like any other alert; on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from factories.risk_batch import REPORT_DAY, Scenes
from factories.world import World, make_world
from fairslot.audit.service import PendingRecord, write
from fairslot.bookings.models import Booking
from fairslot.cases.models import Case, CaseEvent
from fairslot.risk.models import RiskAlert


@pytest.fixture
def world(db, platform) -> World:
    return make_world(db, platform)


@pytest.fixture
def scenes(world: World) -> Scenes:
    return Scenes(world)


def flag(
    world: World,
    *,
    at: dt.datetime,
    account_id: int | None,
    device: str,
    decision: str = "review",
    reasons: str = "fast_confirm",
    booking: Booking | None = None,
) -> None:
    """A request as the gate records it (``api/deps.py``), with its decision."""
    write(
        world.db,
        pending=PendingRecord(
            action="confirm" if booking else "hold",
            at=at,
            ctx=world.ctx(device_id=device),
            account_id=account_id,
            booking_id=booking.id if booking else None,
            decision=decision,
            reasons=reasons,
        ),
        outcome="ok" if decision == "review" else "velocity_blocked",
    )
    world.db.commit()


def realtime_alerts(world: World) -> list[RiskAlert]:
    world.db.commit()
    return list(
        world.db.scalars(
            select(RiskAlert).where(RiskAlert.rule == "realtime_review").order_by(RiskAlert.id)
        )
    )


def test_the_days_flagged_requests_become_one_alert_per_account_in_a_case(
    world: World, scenes: Scenes
) -> None:
    person = scenes.person()
    booking = scenes.book(person, world.session())
    morning = scenes.local(REPORT_DAY, 9)
    flag(world, at=morning, account_id=person.account.id, device="d1", booking=booking)
    flag(
        world,
        at=morning + dt.timedelta(minutes=3),
        account_id=person.account.id,
        device="d1",
        decision="block",
        reasons="fast_confirm,repeated_fast",
    )
    flag(world, at=morning, account_id=None, device="bot-7", reasons="no_browse,binding_burst")
    flag(world, at=morning + dt.timedelta(minutes=1), account_id=None, device="bot-7")
    # The day before belongs to the day before's run.
    flag(
        world, at=scenes.local(REPORT_DAY, 0) - dt.timedelta(minutes=1), account_id=999, device="x"
    )

    report = scenes.run()

    found = realtime_alerts(world)
    assert sorted(a.entity_kind for a in found) == ["account", "device"]
    account = next(a for a in found if a.entity_kind == "account")
    assert account.entity_key == f"account:{person.account.id}"
    assert account.booking_ids == [booking.id]
    assert account.details["requests"] == 2 and account.details["blocked"] == 1
    assert account.case_id is not None
    case = world.db.get(Case, account.case_id)
    assert case is not None and case.subject_key == account.entity_key
    assert report.new_by_rule["realtime_review"] == 2


def test_running_the_date_again_files_no_alert_or_case_event_twice(
    world: World, scenes: Scenes
) -> None:
    flag(world, at=scenes.local(REPORT_DAY, 10), account_id=41, device="d41")
    flag(world, at=scenes.local(REPORT_DAY, 11), account_id=41, device="d41")
    scenes.run()
    events = world.db.scalar(select(func.count()).select_from(CaseEvent))
    world.db.commit()

    again = scenes.run()

    assert again.new_alerts == 0
    assert len(realtime_alerts(world)) == 1
    assert world.db.scalar(select(func.count()).select_from(CaseEvent)) == events


def test_allowed_requests_make_no_alert(world: World, scenes: Scenes) -> None:
    flag(world, at=scenes.local(REPORT_DAY, 10), account_id=42, device="d42", decision="allow")
    scenes.run()
    assert realtime_alerts(world) == []


def test_one_flagged_request_opens_no_case_but_one_block_does(world: World, scenes: Scenes) -> None:
    flag(world, at=scenes.local(REPORT_DAY, 10), account_id=43, device="d43")
    flag(world, at=scenes.local(REPORT_DAY, 10), account_id=44, device="d44", decision="block")

    scenes.run()

    [alert] = realtime_alerts(world)
    assert alert.entity_key == "account:44" and alert.case_id is not None
