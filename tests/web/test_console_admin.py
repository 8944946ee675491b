"""Schedulers, IT admins and auditors at the console, in a browser on the demo: a schedule
push previewed with its row errors and then applied, a session withdrawn with a reason, a
staff account created and its roles changed, staff actions found in the audit log, and
what a role without a right (or a post without the page's token) gets."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from factories.browser import DemoSite, assert_accessible, sign_in
from fairslot.hospitals.models import Department, Doctor, Hospital
from fairslot.schedules.models import ClinicSession, Slot
from fairslot.schedules.states import SessionStatus, SlotState
from fairslot.staff.models import StaffAction

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
HOSPITAL = "PUH1"
HEADER = "hospital,session_id,department,doctor,date,period,start,end,fee,capacity"


def _today(site: DemoSite) -> str:
    now = site.platform.clock.now().astimezone(ZoneInfo(site.platform.settings.default_timezone))
    return now.date().isoformat()


def _day(site: DemoSite, days: int) -> str:
    now = site.platform.clock.now().astimezone(ZoneInfo(site.platform.settings.default_timezone))
    return (now.date() + timedelta(days=days)).isoformat()


def _upload(page: Page, name: str, body: str) -> None:
    page.get_by_label("排班文件").set_input_files(
        files=[{"name": name, "mimeType": "text/csv", "buffer": body.encode()}]
    )
    page.get_by_role("button", name="上传并预览").click()


def _audit_actions(site: DemoSite, action: str) -> list[StaffAction]:
    with site.platform.sessions() as db:
        return list(db.scalars(select(StaffAction).where(StaffAction.action == action)))


def _unreleased_row(site: DemoSite, *, more: int) -> tuple[str, str, int]:
    """A CSV line for a demo session not yet released, its capacity raised by ``more``;
    the session's id and its capacity."""
    now = site.platform.clock.now()
    with site.platform.sessions() as db:
        session, department, doctor = db.execute(
            select(ClinicSession, Department, Doctor)
            .join(Department, Department.id == ClinicSession.department_id)
            .join(Doctor, Doctor.id == ClinicSession.doctor_id)
            .join(Hospital, Hospital.id == ClinicSession.hospital_id)
            .where(
                Hospital.code == HOSPITAL,
                ClinicSession.release_at > now,
                ClinicSession.status == SessionStatus.ACTIVE,
            )
            .order_by(ClinicSession.starts_at)
            .limit(1)
        ).one()
        line = ",".join(
            (
                HOSPITAL,
                session.his_session_id,
                department.code,
                doctor.code,
                session.session_date.isoformat(),
                session.period.value,
                session.local_start.strftime("%H:%M"),
                session.local_end.strftime("%H:%M"),
                str(session.fee),
                str(session.capacity + more),
            )
        )
        return line, session.his_session_id, session.capacity


def test_a_scheduler_previews_a_csv_push_with_row_errors_then_applies_a_good_one(
    page: Page, demo_site: DemoSite
) -> None:
    sign_in(page, demo_site, "scheduler")
    page.get_by_role("navigation", name="功能菜单").get_by_role("link", name="排班管理").click()
    assert_accessible(page)
    page.get_by_role("link", name="协和教学医院 Peking Union Teaching Hospital").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("协和教学医院")
    assert_accessible(page)

    day = _day(demo_site, 20)
    good = f"{HOSPITAL},CONSOLE-{day}-AM,GEN,GEN-01,{day},am,08:00,11:30,25.00,12"
    bad = (
        f"{good}\n"
        f"{HOSPITAL},CONSOLE-{day}-PM,GEN,GEN-01,{day},pm,14:00,17:00,25.00,999\n"
        f"{HOSPITAL},CONSOLE-{day}-EV,GEN,GEN-01,{day},night,18:00,17:00,25.00,5"
    )
    _upload(page, "bad.csv", f"{HEADER}\n{bad}\n")
    expect(page.get_by_role("alert")).to_contain_text("文件有 2 处错误，无法导入")
    third = page.get_by_role("row").filter(has_text="第 3 行")
    expect(third).to_contain_text("capacity")
    expect(third).to_contain_text("must be between 0 and 500")
    expect(page.get_by_role("row").filter(has_text="第 4 行")).to_contain_text("period")
    expect(page.get_by_role("button", name="确认导入")).to_have_count(0)
    assert_accessible(page)
    with demo_site.platform.sessions() as db:
        assert (
            db.scalar(select(func.count()).where(ClinicSession.his_session_id.like("CONSOLE-%")))
            == 0
        )

    page.get_by_role("link", name="重新上传").click()
    raised, raised_id, capacity = _unreleased_row(demo_site, more=3)
    second = good.replace("-AM,GEN,GEN-01", "-AM2,GEN,GEN-02").replace(",12", ",10")
    _upload(page, "good.csv", f"{HEADER}\n{good}\n{second}\n{raised}\n")
    expect(page.get_by_role("heading", name="排班推送预览")).to_be_visible()
    expect(page.get_by_role("region", name="新增场次")).to_contain_text("2")
    expect(page.get_by_role("region", name="修改场次")).to_contain_text("1")
    expect(page.get_by_text("新增号源 25 个")).to_be_visible()
    expect(page.get_by_role("row").filter(has_text=raised_id)).to_contain_text(
        f"{capacity} → {capacity + 3}"
    )
    expect(page.get_by_role("row").filter(has_text=f"CONSOLE-{day}-AM2")).to_contain_text("新增")
    assert_accessible(page)
    page.screenshot(path=str(SCREENSHOTS / "console-schedules.png"))

    page.get_by_role("button", name="确认导入").click()
    expect(page.get_by_role("status").filter(has_text="排班已导入")).to_be_visible()
    expect(page.get_by_text("已导入：新增 2 场，修改 1 场")).to_be_visible()
    assert_accessible(page)
    with demo_site.platform.sessions() as db:
        created = db.scalars(
            select(ClinicSession).where(ClinicSession.his_session_id == f"CONSOLE-{day}-AM")
        ).one()
        assert created.capacity == 12
    (audited,) = _audit_actions(demo_site, "schedule.import")
    assert audited.actor == "scheduler" and audited.data["file"] == "good.csv"


def _booked_session(site: DemoSite) -> tuple[str, str, str]:
    """A demo session someone booked: its id, local date and department code."""
    with site.platform.sessions() as db:
        session, department = db.execute(
            select(ClinicSession, Department)
            .join(Slot, Slot.session_id == ClinicSession.id)
            .join(Department, Department.id == ClinicSession.department_id)
            .join(Hospital, Hospital.id == ClinicSession.hospital_id)
            .where(Slot.state == SlotState.BOOKED, Hospital.code == HOSPITAL)
            .limit(1)
        ).one()
        return session.his_session_id, session.session_date.isoformat(), department.code


def test_a_scheduler_withdraws_a_session_with_a_reason(page: Page, demo_site: DemoSite) -> None:
    session_id, day, department = _booked_session(demo_site)
    sign_in(page, demo_site, "scheduler")
    page.goto(f"/console/schedules/{HOSPITAL}")
    page.get_by_label("起始日期").fill(day)
    page.get_by_label("结束日期").fill(day)
    page.get_by_label("科室").select_option(value=department)
    page.get_by_role("button", name="显示").click()
    row = page.get_by_role("row").filter(has_text=session_id)
    expect(row).to_have_count(1)
    assert_accessible(page)
    row.get_by_role("link", name="停诊…").click()

    expect(page.get_by_role("heading", name="停诊的影响")).to_be_visible()
    expect(page.get_by_text("个预约或锁号会被撤销，每位患者都会收到停诊通知。")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("停诊原因").fill("医生临时出差")
    page.get_by_role("button", name="确认停诊").click()

    expect(page.get_by_role("status").filter(has_text="场次已停诊")).to_be_visible()
    expect(page.get_by_role("row").filter(has_text=session_id)).to_contain_text("已停诊")
    with demo_site.platform.sessions() as db:
        status = db.scalar(
            select(ClinicSession.status).where(ClinicSession.his_session_id == session_id)
        )
    assert status == SessionStatus.WITHDRAWN
    (audited,) = _audit_actions(demo_site, "session.withdraw")
    assert audited.reason == "医生临时出差" and audited.data["bookings_withdrawn"] >= 1


def test_an_it_admin_creates_a_staff_account_and_changes_its_roles(
    page: Page, demo_site: DemoSite
) -> None:
    sign_in(page, demo_site, "it_admin")
    page.get_by_role("navigation", name="功能菜单").get_by_role("link", name="员工账号").click()
    expect(page.get_by_role("table")).to_contain_text("scheduler")
    assert_accessible(page)

    form = page.get_by_role("region", name="新建账号")
    form.get_by_label("用户名").fill("zhao_sched")
    form.get_by_label("姓名").fill("赵排班")
    form.get_by_label("排班员").check()
    form.get_by_label("初始密码").fill("a-long-initial-password")
    form.get_by_role("button", name="新建账号").click()

    expect(page.get_by_role("status").filter(has_text="账号已创建")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text("账号 zhao_sched")
    assert_accessible(page)

    roles = page.get_by_role("region", name="修改角色")
    roles.get_by_label("审计员").check()
    roles.get_by_label("原因").fill("兼任排班审计")
    roles.get_by_role("button", name="保存角色").click()
    expect(page.get_by_role("status").filter(has_text="角色已修改")).to_be_visible()
    expect(page.locator(".staff-roles")).to_contain_text("审计员")
    expect(page.locator(".staff-roles")).to_contain_text("排班员")
    page.goto("/console/staff")
    expect(page.get_by_role("row").filter(has_text="zhao_sched")).to_contain_text("审计员")
    (audited,) = [a for a in _audit_actions(demo_site, "staff.roles") if a.actor == "it_admin"]
    assert audited.reason == "兼任排班审计"
    assert audited.data == {"before": "scheduler", "after": "auditor,scheduler"}


def test_an_auditor_finds_sign_ins_and_decisions_in_the_audit_log(
    page: Page, demo_site: DemoSite
) -> None:
    # IT signs in to the staff API and blacklists a device (both audited).
    login = page.request.post(
        "/staff/v1/login",
        data={"username": "it_admin", "password": demo_site.password("it_admin")},
    )
    assert login.ok, login.text()
    token = login.json()["token"]
    blocked = page.request.post(
        "/staff/v1/blacklist",
        data={"scope": "device", "value": "grab-bot-audit-1", "reason": "抢号脚本设备（审计演示）"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert blocked.status == 201, blocked.text()

    sign_in(page, demo_site, "auditor")
    page.get_by_role("navigation", name="功能菜单").get_by_role("link", name="审计日志").click()
    expect(page.get_by_role("table")).to_contain_text("加入黑名单")
    assert_accessible(page)

    search = page.get_by_role("search", name="查询")
    search.get_by_label("操作人").fill("it_admin")
    search.get_by_role("button", name="查询").click()
    table = page.get_by_role("table")
    expect(table).to_contain_text("登录")
    expect(table).to_contain_text("加入黑名单")
    expect(table).to_contain_text("抢号脚本设备（审计演示）")
    expect(table.locator("tbody tr")).not_to_contain_text(["auditor"])

    search = page.get_by_role("search", name="查询")
    search.get_by_label("操作人").fill("")
    search.get_by_label("操作", exact=True).fill("blacklist.")
    search.get_by_label("原因中的文字").fill("审计演示")
    search.get_by_role("button", name="查询").click()
    expect(page.locator("tbody tr")).to_have_count(1)
    expect(page.locator("tbody tr")).to_contain_text("device")
    assert_accessible(page)

    page.goto(f"/console/audit?from={_today(demo_site)}&to={_today(demo_site)}")
    expect(page.get_by_role("table")).to_contain_text("staff.login")
    page.screenshot(path=str(SCREENSHOTS / "console-audit.png"))


def test_a_role_without_a_right_sees_no_control_and_a_forged_post_is_refused(
    page: Page, demo_site: DemoSite
) -> None:
    sign_in(page, demo_site, "scheduler")
    menu = page.get_by_role("navigation", name="功能菜单")
    expect(menu.get_by_role("link", name="排班管理")).to_be_visible()
    expect(menu.get_by_role("link", name="员工账号")).to_have_count(0)
    expect(menu.get_by_role("link", name="审计日志")).to_have_count(0)
    token = page.locator('input[name="csrf_token"]').first.get_attribute("value")
    assert token
    forged = page.request.post(
        "/console/staff",
        form={
            "csrf_token": token,
            "username": "forged_admin",
            "password": "a-long-initial-password",
            "roles": "it_admin",
        },
        max_redirects=0,
    )
    assert forged.status == 403
    assert "role_required" in forged.text()
    page.goto("/console/audit")
    expect(page.get_by_role("alert")).to_contain_text("您的角色没有此项权限")
    with demo_site.platform.sessions() as db:
        assert db.scalar(select(func.count()).where(StaffAction.target_id == "forged_admin")) == 0

    page.goto("/console/")
    page.get_by_role("button", name="退出").click()
    sign_in(page, demo_site, "auditor")
    menu = page.get_by_role("navigation", name="功能菜单")
    expect(menu.get_by_role("link", name="审计日志")).to_be_visible()
    expect(menu.get_by_role("link", name="员工账号")).to_have_count(0)
    expect(menu.get_by_role("link", name="排班管理")).to_have_count(0)
    page.goto("/console/staff")
    expect(page.get_by_role("alert")).to_contain_text("您的角色没有此项权限")
    assert_accessible(page)


def test_a_post_without_the_csrf_token_is_refused(page: Page, demo_site: DemoSite) -> None:
    sign_in(page, demo_site, "it_admin")
    refused = page.request.post(
        "/console/staff",
        form={
            "username": "no_token",
            "password": "a-long-initial-password",
            "roles": "auditor",
        },
        max_redirects=0,
    )
    assert refused.status == 403
    assert "csrf_failed" in refused.text()
    page.goto("/console/staff")
    expect(page.get_by_role("table")).not_to_contain_text("no_token")
