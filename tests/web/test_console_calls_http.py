"""The console's call desk over HTTP on both backends: the desk and its empty state, taking
the next call, the masked call page, revealing the number on purpose (audited), recording
the outcome, putting a call back, and the refusals."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from factories.console import ConsoleSession, sign_in
from factories.review import LOCK, ask_for_calls, staff, take
from factories.risk import Operation, book_for_patients, payment_case
from factories.world import World
from fairslot.cases.models import Case
from fairslot.cases.states import CaseStatus
from fairslot.followup import service as calls
from fairslot.followup.models import CallTask
from fairslot.followup.states import CallOutcome, CallStatus
from fairslot.staff.audit import cli_actor
from fairslot.staff.models import StaffAction
from fairslot.staff.roles import Role

QUESTION = "这次预约是您本人挂的吗？"


@pytest.fixture
def zhao(site: TestClient, world: World) -> ConsoleSession:
    staff(world, "zhao", Role.CUSTOMER_SERVICE)
    return sign_in(site, "zhao")


def flagged_call(world: World, *, patients: int = 1) -> tuple[Operation, Case]:
    """A reviewer asked customer service to call the patients of a payment case."""
    wang = staff(world, "wang", Role.REVIEWER)
    op = book_for_patients(world, patients=patients)
    case = payment_case(world, op)
    take(world, wang)
    ask_for_calls(world, case_id=case.id, actor=wang, question=QUESTION)
    world.db.commit()
    return op, case


def sample(world: World) -> None:
    calls.sample(
        world.db,
        day=dt.date(2026, 11, 22),
        rate=1.0,
        limit=100,
        rng=random.Random(7),
        now=world.now(),
        tz="Asia/Shanghai",
        actor=cli_actor("scheduler"),
    )
    world.db.commit()


def task(world: World, task_id: int) -> CallTask:
    world.db.rollback()
    row = world.db.get(CallTask, task_id)
    assert row is not None
    world.db.refresh(row)
    world.db.commit()
    return row


def audited(world: World, *actions: str) -> list[tuple[str, str, str]]:
    world.db.rollback()
    rows = world.db.scalars(
        select(StaffAction).where(StaffAction.action.in_(actions)).order_by(StaffAction.id)
    ).all()
    world.db.commit()
    return [(r.action, r.actor, r.target_id) for r in rows]


def take_next(agent: ConsoleSession) -> int:
    response = agent.post("/console/calls/next")
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert location.endswith("?done=call_taken")
    return int(location.split("/")[-1].split("?")[0])


def test_the_desk_says_when_nothing_waits_and_taking_then_comes_back_to_it(
    zhao: ConsoleSession,
) -> None:
    desk = zhao.get("/console/calls")
    assert desk.status_code == 200
    assert "没有等待中的回访。" in desk.text and "您手上没有回访。" in desk.text
    assert 'action="/console/calls/next"' not in desk.text

    response = zhao.post("/console/calls/next")

    assert (response.status_code, response.headers["location"]) == (303, "/console/calls?empty=1")
    assert "目前没有待回访的任务。" in zhao.get(response.headers["location"]).text


def test_an_agent_takes_the_flagged_call_first_and_reads_the_reviewers_question(
    zhao: ConsoleSession, world: World
) -> None:
    sample(world)
    op, case = flagged_call(world)
    desk = zhao.get("/console/calls").text
    assert "审核点名" in desk and "随机抽样" in desk and 'action="/console/calls/next"' in desk

    task_id = take_next(zhao)
    page = zhao.get(f"/console/calls/{task_id}?done=call_taken")

    assert task(world, task_id).case_id == case.id
    assert "已领取回访" in page.text and QUESTION in page.text
    assert f"审核员（案件 #{case.id}）请您核实" in page.text
    patient = op.patients[0]
    phone = world.platform.protector.decrypt(patient.phone_encrypted)
    name = world.platform.protector.decrypt(patient.name_encrypted)
    assert name not in page.text and patient.name_masked in page.text
    assert phone[3:] not in page.text and phone[-4:] in page.text
    assert "显示完整号码" in page.text and world.department.name in page.text
    assert audited(world, "call.view_phone", "call.reveal_phone") == []
    assert 'href="/console/calls/' in zhao.get("/console/calls").text


def test_revealing_the_number_is_an_audited_post_by_the_agent_holding_the_call(
    zhao: ConsoleSession, world: World
) -> None:
    op, _ = flagged_call(world)
    task_id = take_next(zhao)
    phone = world.platform.protector.decrypt(op.patients[0].phone_encrypted)
    spaced = f"{phone[3:6]} {phone[6:10]} {phone[10:]}"

    page = zhao.post(f"/console/calls/{task_id}/phone")
    fragment = zhao.post(f"/console/calls/{task_id}/phone", headers={"HX-Request": "true"})

    assert page.status_code == 200 and spaced in page.text and "<h1>" in page.text
    assert page.headers["cache-control"] == "no-store"
    assert fragment.status_code == 200 and spaced in fragment.text
    assert "<html" not in fragment.text and "记入审计日志" in fragment.text
    assert audited(world, "call.reveal_phone") == [("call.reveal_phone", "zhao", str(task_id))] * 2
    assert spaced not in zhao.get(f"/console/calls/{task_id}").text  # masked again on reload


def test_another_agent_sees_the_call_masked_and_cannot_reveal_or_record_it(
    site: TestClient, zhao: ConsoleSession, world: World
) -> None:
    flagged_call(world)
    task_id = take_next(zhao)
    site.cookies.clear()
    staff(world, "qian", Role.CUSTOMER_SERVICE)
    qian = sign_in(site, "qian")

    page = qian.get(f"/console/calls/{task_id}")
    reveal = qian.post(f"/console/calls/{task_id}/phone")
    outcome = qian.post(f"/console/calls/{task_id}/outcome", {"outcome": "genuine"})

    assert page.status_code == 200 and "此回访不在您手上" in page.text
    assert "显示完整号码" not in page.text and 'name="outcome"' not in page.text
    assert reveal.status_code == 409 and "该回访由其他客服处理中。" in reveal.text
    assert outcome.status_code == 409
    assert audited(world, "call.reveal_phone") == []
    assert task(world, task_id).status == CallStatus.TAKEN


def test_recording_the_outcome_ends_the_call_and_sends_the_case_back_to_review(
    zhao: ConsoleSession, world: World
) -> None:
    _, case = flagged_call(world)
    task_id = take_next(zhao)

    response = zhao.post(
        f"/console/calls/{task_id}/outcome",
        {"outcome": "suspicious", "note": "说不清挂的是哪个科"},
    )

    assert (response.status_code, response.headers["location"]) == (
        303,
        "/console/calls?done=call_recorded",
    )
    done = task(world, task_id)
    assert (done.status, done.outcome, done.note) == (
        CallStatus.DONE,
        CallOutcome.SUSPICIOUS,
        "说不清挂的是哪个科",
    )
    world.db.refresh(case)
    world.db.commit()
    assert case.status == CaseStatus.OPEN  # its only call has its outcome
    assert audited(world, "call.outcome") == [("call.outcome", "zhao", str(task_id))]
    desk = zhao.get(response.headers["location"]).text
    assert "回访结果已保存。" in desk and "可疑" in desk
    page = zhao.get(f"/console/calls/{task_id}").text
    assert "说不清挂的是哪个科" in page and "显示完整号码" not in page
    again = zhao.post(f"/console/calls/{task_id}/outcome", {"outcome": "genuine"})
    assert again.status_code == 409 and "该回访已记录结果。" in again.text


def test_an_agent_puts_a_call_back_and_a_lapsed_hold_cannot_record(
    zhao: ConsoleSession, world: World
) -> None:
    book_for_patients(world, patients=1)
    sample(world)
    first = take_next(zhao)

    released = zhao.post(f"/console/calls/{first}/release")

    assert released.headers["location"] == "/console/calls?done=call_released"
    assert task(world, first).status == CallStatus.PENDING
    second = take_next(zhao)
    world.platform.clock.advance(dt.timedelta(minutes=LOCK))
    late = zhao.post(f"/console/calls/{second}/outcome", {"outcome": "genuine"})
    assert late.status_code == 409 and "锁定已过期" in late.text
    assert task(world, second).status == CallStatus.TAKEN


def test_other_roles_have_no_call_desk_and_posts_need_the_csrf_token(
    site: TestClient, zhao: ConsoleSession, world: World
) -> None:
    flagged_call(world)
    no_token = zhao.client.post("/console/calls/next", follow_redirects=False)
    assert no_token.status_code == 403 and "csrf_failed" in no_token.text
    site.cookies.clear()
    staff(world, "it_li", Role.IT_ADMIN)
    it = sign_in(site, "it_li")

    assert 'href="/console/calls"' not in it.get("/console/").text
    assert it.get("/console/calls").status_code == 403
    forged = it.post("/console/calls/next")
    assert forged.status_code == 403 and "role_required" in forged.text
    assert audited(world, "call.take") == []
