"""A patient's "problem booking?" request (followup/help.py) reaches the call desk and is
handled like any call, on SQLite and PostgreSQL."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from factories.review import LOCK, staff
from factories.world import World
from fairslot.cases import calls as case_calls
from fairslot.followup import service as calls
from fairslot.followup.help import HelpAlreadyAsked, request_help
from fairslot.followup.states import CallOutcome, CallReason, CallStatus
from fairslot.staff.roles import Role

TZ = ZoneInfo("Asia/Shanghai")


def test_a_help_request_is_taken_viewed_and_answered_at_the_call_desk(world: World) -> None:
    _, patient = world.patient()
    task = request_help(
        world.db,
        patient_id=patient.id,
        booking_id=None,
        question="  付款后\n没有显示  ",
        now=world.now(),
    )
    world.db.commit()
    assert task.reason == CallReason.HELP and task.question == "付款后 没有显示"
    agent = staff(world, "agent", Role.CUSTOMER_SERVICE)
    desk = calls.desk(world.db, actor=agent, now=world.now(), tz=TZ)
    assert [row.task_id for row in desk.waiting] == [task.id]
    taken = calls.take_next(world.db, actor=agent, now=world.now(), lock_minutes=LOCK)
    view = calls.view(
        world.db,
        task=taken,
        actor=agent,
        now=world.now(),
        protector=world.platform.protector,
        tz=TZ,
        masked=True,
    )
    assert view.reason == CallReason.HELP and view.question == "付款后 没有显示"
    done = case_calls.record_outcome(
        world.db,
        task_id=task.id,
        outcome=CallOutcome.GENUINE,
        note="helped",
        actor=agent,
        now=world.now(),
    )
    world.db.commit()
    assert done.status == CallStatus.DONE


def test_asking_again_while_a_request_waits_adds_nothing(world: World) -> None:
    _, patient = world.patient()
    request_help(world.db, patient_id=patient.id, booking_id=None, question="", now=world.now())
    world.db.commit()
    with pytest.raises(HelpAlreadyAsked):
        request_help(world.db, patient_id=patient.id, booking_id=None, question="", now=world.now())
    world.db.rollback()
