"""The console's review queue and case page over HTTP, on both backends: what a reviewer
sees, taking the next case, each decision through its form with its effect and its audit
row, and the refusals (an auditor's forged post, a post without the CSRF token, a role
without the duty, a confirmation without a scope)."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from factories.console import ConsoleSession, sign_in
from factories.review import actions
from factories.risk import (
    Operation,
    book_for_patients,
    file_later_alert,
    payment_case,
    ring_case,
)
from factories.staff import create_staff
from factories.world import World
from fairslot.blacklist.models import BlacklistEntry
from fairslot.cases.models import Case
from fairslot.cases.states import CaseStatus
from fairslot.followup.models import CallTask
from fairslot.staff.roles import Role


def as_role(site: TestClient, world: World, name: str, role: Role) -> ConsoleSession:
    create_staff(world.db, username=name, roles={role}, now=world.now())
    return sign_in(site, name)


@pytest.fixture
def reviewer(site: TestClient, world: World) -> ConsoleSession:
    return as_role(site, world, "wang", Role.REVIEWER)


@pytest.fixture
def scalper(world: World) -> Operation:
    return book_for_patients(world, patients=3, ip="203.0.113.50")


def case_of(world: World, case_id: int) -> Case:
    world.db.rollback()
    case = world.db.get(Case, case_id)
    assert case is not None
    world.db.refresh(case)
    world.db.commit()
    return case


def blocks(world: World) -> list[BlacklistEntry]:
    world.db.rollback()
    rows = list(world.db.scalars(select(BlacklistEntry).order_by(BlacklistEntry.id)))
    world.db.commit()
    return rows


def take(reviewer: ConsoleSession) -> str:
    taken = reviewer.post("/console/cases/next")
    assert taken.status_code == 303, taken.text
    return str(taken.headers["location"])


def test_the_queue_shows_each_undecided_case_with_its_rules_and_the_take_button(
    reviewer: ConsoleSession, world: World, scalper: Operation
) -> None:
    case = payment_case(world, scalper)

    page = reviewer.get("/console/cases")

    assert page.status_code == 200
    assert f'href="/console/cases/{case.id}"' in page.text
    assert "同一支付账户同科室多次付费" in page.text and "待审核" in page.text
    assert 'action="/console/cases/next"' in page.text
    assert "还没有已决定的案件。" in page.text


def test_an_empty_queue_says_what_to_do_and_taking_from_it_is_news_not_an_error(
    reviewer: ConsoleSession,
) -> None:
    page = reviewer.get("/console/cases")
    taken = reviewer.post("/console/cases/next")

    assert "队列里没有待处理的案件。" in page.text and "每日报告" in page.text
    assert taken.status_code == 303
    assert taken.headers["location"] == "/console/cases?done=cases_queue_empty"
    assert "目前没有待审核的案件。" in reviewer.get(taken.headers["location"]).text


def test_taking_the_next_case_claims_it_and_opens_its_evidence(
    reviewer: ConsoleSession, world: World, scalper: Operation
) -> None:
    case = payment_case(world, scalper)

    location = take(reviewer)
    page = reviewer.get(location)

    assert location == f"/console/cases/{case.id}?done=cases_taken"
    claimed = case_of(world, case.id)
    assert claimed.status == CaseStatus.IN_REVIEW and claimed.assigned_to is not None
    assert actions(world, case.id) == ["case.take", "case.view"]
    assert re.search(r'<span class="figure">6</span>', page.text)  # 1.2 × threshold 5
    assert "阈值 ≥ 5" in page.text
    # Three patients and their phones, the account and its login phone, the device,
    # the network and the card.
    assert page.text.count("<circle ") == 3 + 3 + 1 + 1 + 1 + 1 + 1
    assert '<svg class="ring"' in page.text and "以表格查看关系图" in page.text
    assert page.text.count('href="/console/slots/') == 6  # held and booked, three slots
    assert 'action="/console/cases/' + str(case.id) + '/confirm"' in page.text


def test_a_family_on_the_scalpers_network_is_flagged_beside_the_network_and_left_unticked(
    reviewer: ConsoleSession, world: World, scalper: Operation
) -> None:
    book_for_patients(world, patients=2, ip="203.0.113.50")
    payment_case(world, scalper)

    page = reviewer.get(take(reviewer)).text

    assert "还会拦截另外 2 名患者" in page
    assert 'value="network">' in page  # not ticked
    assert 'value="device" checked>' in page and 'value="payment" checked>' in page


def test_confirming_blocks_the_chosen_scopes_for_the_days_given_and_closes_the_case(
    reviewer: ConsoleSession, world: World, scalper: Operation
) -> None:
    case = payment_case(world, scalper)
    take(reviewer)

    done = reviewer.post(
        f"/console/cases/{case.id}/confirm",
        {
            "scopes": ["phone", "payment"],
            "expiry": "days",
            "days": "30",
            "reason": "卖号",
            "evidence_version": "1",
        },
    )

    assert done.status_code == 303
    assert done.headers["location"] == f"/console/cases/{case.id}?done=cases_confirmed"
    assert case_of(world, case.id).status == CaseStatus.CONFIRMED
    entries = blocks(world)
    assert sorted({e.scope.value for e in entries}) == ["payment", "phone"]
    assert all(e.expires_at is not None for e in entries)
    assert all(e.case_ref == str(case.id) for e in entries)
    assert "case.confirm" in actions(world, case.id)
    after = reviewer.get(done.headers["location"]).text
    assert "已确认：所选标识已拉黑" in after and "该案件已确认，决定不可更改。" in after
    assert f'action="/console/cases/{case.id}/confirm"' not in after


def test_a_permanent_block_has_no_expiry(
    reviewer: ConsoleSession, world: World, scalper: Operation
) -> None:
    case = payment_case(world, scalper)
    take(reviewer)

    reviewer.post(
        f"/console/cases/{case.id}/confirm",
        {
            "scopes": ["device"],
            "expiry": "permanent",
            "days": "30",
            "reason": "grab script",
            "evidence_version": "1",
        },
    )

    [entry] = blocks(world)
    assert entry.scope.value == "device" and entry.expires_at is None


@pytest.mark.parametrize(
    ("form", "message"),
    [
        (
            {"expiry": "permanent", "reason": "卖号", "evidence_version": "1"},
            "请至少选择一项要拉黑的标识。",
        ),
        (
            {
                "scopes": ["phone"],
                "expiry": "days",
                "days": "",
                "reason": "卖号",
                "evidence_version": "1",
            },
            "有效期天数无效。",
        ),
        (
            {"scopes": ["phone"], "expiry": "permanent", "reason": " ", "evidence_version": "1"},
            "请填写原因。",
        ),
    ],
)
def test_a_confirmation_missing_a_choice_is_refused_and_nothing_is_blocked(
    reviewer: ConsoleSession,
    world: World,
    scalper: Operation,
    form: dict[str, object],
    message: str,
) -> None:
    case = payment_case(world, scalper)
    take(reviewer)

    refused = reviewer.post(f"/console/cases/{case.id}/confirm", form)

    assert refused.status_code == 422 and message in refused.text
    assert blocks(world) == [] and case_of(world, case.id).status == CaseStatus.IN_REVIEW


def test_a_decision_on_a_page_read_before_new_alerts_came_in_is_refused_until_read_again(
    reviewer: ConsoleSession, world: World, scalper: Operation
) -> None:
    case = payment_case(world, scalper)
    take(reviewer)
    page = reviewer.get(f"/console/cases/{case.id}").text
    shown = re.findall(r'name="evidence_version" value="(\d+)"', page)
    assert shown == ["1", "1"]  # on the confirmation's form and the dismissal's
    latecomer = book_for_patients(world, patients=2, ip="203.0.113.60")
    file_later_alert(world, case, latecomer.booking_ids)
    form = {"scopes": ["phone"], "expiry": "permanent", "reason": "卖号", "evidence_version": "1"}

    refused = reviewer.post(f"/console/cases/{case.id}/confirm", form)

    assert refused.status_code == 409
    assert "您查看后该案件又加入了新的预警，请重新查看后再作决定。" in refused.text
    assert blocks(world) == [] and case_of(world, case.id).status == CaseStatus.IN_REVIEW
    again = reviewer.get(f"/console/cases/{case.id}").text
    assert re.findall(r'name="evidence_version" value="(\d+)"', again) == ["2", "2"]
    done = reviewer.post(f"/console/cases/{case.id}/confirm", {**form, "evidence_version": "2"})
    assert done.status_code == 303
    assert case_of(world, case.id).status == CaseStatus.CONFIRMED


def test_dismissing_closes_the_case_with_the_reason_and_blocks_nothing(
    reviewer: ConsoleSession, world: World, scalper: Operation
) -> None:
    case = payment_case(world, scalper)
    take(reviewer)

    done = reviewer.post(
        f"/console/cases/{case.id}/dismiss", {"reason": "一家人轮流挂号", "evidence_version": "1"}
    )

    assert done.status_code == 303
    closed = case_of(world, case.id)
    assert closed.status == CaseStatus.DISMISSED and closed.decision_reason == "一家人轮流挂号"
    assert blocks(world) == [] and "case.dismiss" in actions(world, case.id)


def test_asking_for_calls_creates_one_task_per_patient_and_the_case_waits(
    reviewer: ConsoleSession, world: World, scalper: Operation
) -> None:
    case = payment_case(world, scalper)
    take(reviewer)

    done = reviewer.post(f"/console/cases/{case.id}/calls", {"question": "是否本人就诊？"})

    assert done.status_code == 303
    assert case_of(world, case.id).status == CaseStatus.AWAITING_CALL
    world.db.rollback()
    tasks = list(world.db.scalars(select(CallTask).where(CallTask.case_id == case.id)))
    world.db.commit()
    assert len(tasks) == 3 and {t.question for t in tasks} == {"是否本人就诊？"}
    page = reviewer.get(f"/console/cases/{case.id}").text
    assert "正在等待客服回访" in page and "是否本人就诊？" in page


def test_releasing_puts_the_case_back_in_the_queue(
    reviewer: ConsoleSession, world: World, scalper: Operation
) -> None:
    case = payment_case(world, scalper)
    take(reviewer)

    done = reviewer.post(f"/console/cases/{case.id}/release")

    assert done.headers["location"] == "/console/cases?done=cases_released"
    assert case_of(world, case.id).status == CaseStatus.OPEN
    assert "case.release" in actions(world, case.id)


def test_an_auditor_reads_cases_without_controls_and_a_forged_confirmation_is_refused(
    site: TestClient, world: World, scalper: Operation
) -> None:
    case = payment_case(world, scalper)
    auditor = as_role(site, world, "audit_zhou", Role.AUDITOR)

    queue = auditor.get("/console/cases")
    page = auditor.get(f"/console/cases/{case.id}")
    forged = auditor.post(
        f"/console/cases/{case.id}/confirm",
        {"scopes": ["phone"], "expiry": "permanent", "reason": "forged", "evidence_version": "1"},
    )
    taken = auditor.post("/console/cases/next")

    assert queue.status_code == 200 and 'action="/console/cases/next"' not in queue.text
    assert page.status_code == 200 and "只读：您的角色可以查看案件" in page.text
    assert "/confirm" not in page.text and "/dismiss" not in page.text
    assert forged.status_code == 403 and "role_required" in forged.text
    assert taken.status_code == 403
    assert case_of(world, case.id).status == CaseStatus.OPEN and blocks(world) == []


def test_a_role_without_the_duty_sees_no_cases(
    site: TestClient, world: World, scalper: Operation
) -> None:
    case = payment_case(world, scalper)
    agent = as_role(site, world, "zhao", Role.CUSTOMER_SERVICE)

    assert 'href="/console/cases"' not in agent.get("/console/").text
    for url in ("/console/cases", f"/console/cases/{case.id}"):
        page = agent.get(url)
        assert page.status_code == 403 and "role_required" in page.text
    assert agent.post("/console/cases/next").status_code == 403


def test_a_post_without_the_csrf_token_is_refused(
    reviewer: ConsoleSession, world: World, scalper: Operation
) -> None:
    case = payment_case(world, scalper)
    take(reviewer)

    response = reviewer.client.post(
        f"/console/cases/{case.id}/dismiss",
        data={"reason": "x", "evidence_version": "1"},
        follow_redirects=False,
    )

    assert response.status_code == 403 and "csrf_failed" in response.text
    assert case_of(world, case.id).status == CaseStatus.IN_REVIEW


def test_an_unknown_case_is_a_page_saying_so(reviewer: ConsoleSession) -> None:
    page = reviewer.get("/console/cases/999999")

    assert page.status_code == 404 and "找不到该案件。" in page.text


def test_a_ring_case_shows_its_reasons_and_draws_every_member(
    reviewer: ConsoleSession, world: World
) -> None:
    ops = [book_for_patients(world, patients=4) for _ in range(3)]
    case = ring_case(world, ops)

    page = reviewer.get(f"/console/cases/{case.id}").text

    assert "关联团伙" in page and "+1" in page  # the reason's points
    # Twelve patients and their phones, and per operation an account with its login
    # phone, a device, a network and a card: too many for columns, every one still drawn.
    assert page.count("<circle ") == 12 + 12 + 3 * 5
    assert page.count('<tr class="hit">') >= 4  # the shared identifiers, in the table
