"""IT keeps the blacklist in the console: finds the entry of a person blocked by mistake,
lifts it after checking their identity document at the desk, and reads its history; other
roles have no blacklist, and a forged or token-less post changes nothing."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page, expect
from sqlalchemy import select

from factories.browser import DemoSite, assert_accessible, sign_in
from fairslot.blacklist.models import BlacklistEntry
from fairslot.demo.desk import MISTAKEN_PHONE
from fairslot.staff.models import StaffAction

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
# The demo's phone blocked by mistake, as the person says it at the desk, and its label.
SAID = f"{MISTAKEN_PHONE[:3]} {MISTAKEN_PHONE[3:7]} {MISTAKEN_PHONE[7:]}"
LABEL = f"{MISTAKEN_PHONE[:3]}***{MISTAKEN_PHONE[-2:]}"


def _entry_of_label(site: DemoSite, label: str) -> BlacklistEntry:
    with site.platform.sessions() as db:
        return db.scalars(select(BlacklistEntry).where(BlacklistEntry.label == label)).one()


def test_an_it_admin_lifts_an_entry_in_person_and_the_history_shows_it(
    page: Page, demo_site: DemoSite
) -> None:
    sign_in(page, demo_site, "it_admin")
    page.get_by_role("navigation", name="功能菜单").get_by_role("link", name="黑名单").click()
    expect(page.get_by_role("heading", name="黑名单", level=1)).to_be_visible()
    table = page.get_by_role("table")
    expect(table.get_by_role("row")).to_have_count(3)  # the header and two entries in force
    expect(table).to_contain_text(LABEL)
    expect(table).to_contain_text("保卫科报告")
    assert_accessible(page)

    # The person at the desk gives their number: IT finds the entry by it, typed as said.
    search = page.get_by_role("search", name="按标识查找")
    search.get_by_label("标识（明文）").fill(SAID)
    search.get_by_role("button", name="按标识查找").click()
    expect(
        page.get_by_text("该标识在黑名单中的全部记录（含已解除、已过期）：1 条。")
    ).to_be_visible()
    expect(page.locator("body")).not_to_contain_text(SAID)
    assert_accessible(page)
    page.get_by_role("link", name=re.compile(r"^#\d+ 详情$")).click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("生效中")
    expect(page.get_by_text("无（IT 直接拉黑）")).to_be_visible()
    assert_accessible(page)
    lift = page.get_by_role("region", name="现场解除")
    lift.get_by_label("核验证件").select_option(label="居民身份证")
    lift.get_by_label("核验人").fill("服务台 周敏")
    lift.get_by_label("核验内容").fill(
        "身份证原件与本人相符；该号码为本人实名使用，保卫科确认系误报"
    )
    lift.get_by_role("button", name="核验无误，解除拉黑").click()

    expect(page.get_by_text("已解除：核验记录已写入审计日志。")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_contain_text("已解除")
    history = page.get_by_role("region", name="历史记录")
    expect(history).to_contain_text("it_admin 拉黑")
    expect(history).to_contain_text("it_admin 现场核验后解除")
    expect(history).to_contain_text("居民身份证")
    expect(history).to_contain_text("核验人：服务台 周敏")
    record = page.get_by_role("region", name="现场核验记录")
    expect(record).to_contain_text("保卫科确认系误报")
    expect(page.get_by_role("button", name="核验无误，解除拉黑")).to_have_count(0)
    assert_accessible(page)

    entry = _entry_of_label(demo_site, LABEL)
    assert (entry.lifted_by, entry.scope.value) == ("it_admin", "phone")
    with demo_site.platform.sessions() as db:
        lifted = db.scalars(
            select(StaffAction).where(
                StaffAction.action == "blacklist.lift", StaffAction.target_id == str(entry.id)
            )
        ).one()
    assert lifted.actor == "it_admin" and lifted.data["document"] == "resident_id_card"

    # Every state on one list: in force, lifted just now, and the grab tool's expired block.
    page.goto("/console/blacklist?state=all")
    rows = page.get_by_role("table").get_by_role("row")
    expect(rows).to_have_count(4)
    for state in ("生效中", "已解除", "已过期"):
        expect(page.get_by_role("table")).to_contain_text(state)
    assert_accessible(page)
    page.screenshot(path=str(SCREENSHOTS / "console-blacklist.png"))


def test_an_it_admin_blocks_an_identifier_from_the_form(page: Page, demo_site: DemoSite) -> None:
    sign_in(page, demo_site, "it_admin")
    page.goto("/console/blacklist")
    page.get_by_role("link", name="新增拉黑").click()
    assert_accessible(page)
    page.get_by_label("范围").select_option(label="设备")
    page.get_by_label("标识（明文）").fill("grab-bot-2049")
    page.get_by_label("原因").fill("审核确认：抢号脚本设备")
    page.get_by_label("有效期").select_option(label="90 天")
    page.get_by_role("button", name="确认拉黑").click()

    expect(page.get_by_text("已拉黑：该标识在所有渠道都无法挂号。")).to_be_visible()
    expect(page.get_by_role("region", name="拉黑内容")).to_contain_text("gra***49")
    expect(page.locator("body")).not_to_contain_text("grab-bot-2049")
    assert_accessible(page)


def test_a_reviewer_sees_no_blacklist_menu_and_the_page_is_refused(
    page: Page, demo_site: DemoSite
) -> None:
    sign_in(page, demo_site, "reviewer")
    menu = page.get_by_role("navigation", name="功能菜单")
    expect(menu.get_by_role("link", name="审核队列")).to_be_visible()
    expect(menu.get_by_role("link", name="黑名单")).to_have_count(0)

    response = page.goto("/console/blacklist")

    assert response is not None and response.status == 403
    expect(page.get_by_role("alert")).to_contain_text("您的角色没有此项权限。")
    assert_accessible(page)


def test_a_forged_lift_by_customer_service_and_a_post_without_the_token_change_nothing(
    page: Page, demo_site: DemoSite
) -> None:
    entry = _entry_of_label(demo_site, LABEL)
    sign_in(page, demo_site, "service")
    token = page.locator('input[name="csrf_token"]').first.get_attribute("value")
    assert token

    forged = page.request.post(
        f"/console/blacklist/{entry.id}/lift",
        form={"csrf_token": token, "document": "resident_id_card", "checked": "trust me"},
    )
    tokenless = page.request.post(
        f"/console/blacklist/{entry.id}/lift",
        form={"document": "resident_id_card", "checked": "trust me"},
    )

    assert forged.status == 403 and "role_required" in forged.text()
    assert tokenless.status == 403 and "csrf_failed" in tokenless.text()
    assert _entry_of_label(demo_site, LABEL).lifted_at is None
