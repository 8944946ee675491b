"""Customer service works the call desk in the console: takes the call a reviewer asked
for, reads the script and the question, shows the phone number only to dial it (and that
shows in the audit log), records the outcome; other roles have no call desk."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page, expect
from sqlalchemy import select

from factories.browser import DemoSite, assert_accessible, sign_in
from fairslot.demo.desk import QUESTION
from fairslot.followup.models import CallTask
from fairslot.patients.models import Patient
from fairslot.staff.models import StaffAction

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def _phone_of_call(site: DemoSite, task_id: int) -> str:
    with site.platform.sessions() as db:
        task = db.get(CallTask, task_id)
        assert task is not None
        patient = db.get(Patient, task.patient_id)
        assert patient is not None
        return site.platform.protector.decrypt(patient.phone_encrypted)


def _phone_reads(site: DemoSite) -> list[tuple[str, str, str]]:
    with site.platform.sessions() as db:
        rows = db.scalars(
            select(StaffAction)
            .where(StaffAction.action.in_(["call.reveal_phone", "call.view_phone"]))
            .order_by(StaffAction.id)
        ).all()
        return [(r.action, r.actor, r.target_id) for r in rows]


def test_an_agent_takes_a_call_reveals_the_phone_and_records_the_outcome(
    page: Page, demo_site: DemoSite
) -> None:
    sign_in(page, demo_site, "service")
    page.get_by_role("navigation", name="功能菜单").get_by_role("link", name="回访台").click()
    expect(page.get_by_role("heading", name="回访台", level=1)).to_be_visible()
    expect(page.get_by_text("您手上没有回访。")).to_be_visible()
    waiting = page.get_by_role("table")
    expect(waiting).to_contain_text("审核点名")
    expect(waiting).to_contain_text("随机抽样")
    assert_accessible(page)

    page.get_by_role("button", name="领取下一个回访").click()
    expect(page.get_by_text("已领取回访，请按脚本拨打。")).to_be_visible()
    task_id = int(re.sub(r"\D", "", page.url.split("/console/calls/")[1].split("?")[0]))
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_contain_text("审核点名")
    script = page.get_by_role("region", name="通话脚本")
    expect(script).to_contain_text(QUESTION)
    expect(script).to_contain_text("请对方说出预约的科室、医生和就诊日期")
    patient = page.get_by_role("region", name="患者")
    expect(patient).to_contain_text("刘*兰")
    expect(patient).to_contain_text("女 · 68 岁")
    phone = _phone_of_call(demo_site, task_id)
    national = phone.removeprefix("+86")
    expect(patient).to_contain_text(f"{national[:3]}****{national[-4:]}")
    expect(page.locator("body")).not_to_contain_text(national[3:7])
    expect(page.get_by_role("region", name="预约信息")).to_contain_text("已取消")
    assert _phone_reads(demo_site) == []
    assert_accessible(page)

    # About to dial: the agent asks for the number, and that is written to the audit log.
    patient.get_by_role("button", name="显示完整号码").click()
    spaced = f"{national[:3]} {national[3:7]} {national[7:]}"
    expect(patient.locator(".call-phone-full")).to_have_text(spaced)
    expect(patient).to_contain_text("本次查看已记入审计日志")
    assert _phone_reads(demo_site) == [("call.reveal_phone", "service", str(task_id))]
    assert_accessible(page)
    page.screenshot(path=str(SCREENSHOTS / "console-call.png"))

    outcome = page.get_by_role("region", name="记录结果")
    outcome.get_by_role("radio", name=re.compile("真实患者")).check()
    outcome.get_by_label("备注").fill("本人接听：膝盖疼，挂了几次都时间不合适就取消了，已约到周四")
    outcome.get_by_role("button", name="保存回访结果").click()

    expect(page.get_by_text("回访结果已保存。")).to_be_visible()
    done = page.get_by_role("table").last
    expect(done).to_contain_text("真实患者")
    expect(done).to_contain_text("service")
    assert_accessible(page)
    with demo_site.platform.sessions() as db:
        task = db.get(CallTask, task_id)
        assert task is not None and task.outcome is not None
        assert (task.status.value, task.outcome.value) == ("done", "genuine")

    # The auditor reads the reveal in the audit log.
    page.context.clear_cookies()
    sign_in(page, demo_site, "auditor")
    page.goto("/console/audit?action=call.reveal_phone")
    log = page.get_by_role("table")
    expect(log).to_contain_text("显示回访电话")
    expect(log).to_contain_text("service")


def test_a_reviewer_has_no_call_desk(page: Page, demo_site: DemoSite) -> None:
    sign_in(page, demo_site, "reviewer")
    expect(
        page.get_by_role("navigation", name="功能菜单").get_by_role("link", name="回访台")
    ).to_have_count(0)

    response = page.goto("/console/calls")

    assert response is not None and response.status == 403
    expect(page.get_by_role("alert")).to_contain_text("您的角色没有此项权限。")
