"""A scheduler starts the day on Today and follows a draw to its verification — on the
demo data, in a browser, with an accessibility check of every page on the way."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page, expect

from factories.browser import DemoSite, assert_accessible, sign_in

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def test_a_scheduler_opens_today_and_follows_a_draw_to_its_verification(
    page: Page, demo_site: DemoSite
) -> None:
    sign_in(page, demo_site, "scheduler")
    expect(page.get_by_role("heading", level=1)).to_have_text("今日概览")
    hospitals = page.locator("section.hospital-day")
    expect(hospitals).to_have_count(len(demo_site.seed.hospitals))
    first = hospitals.first
    expect(first.get_by_role("heading", name=re.compile(r"^今日放号"))).to_be_visible()
    expect(first).to_contain_text(re.compile(r"00:30 放出 D\+7（\d{4}-\d{2}-\d{2}）的号源"))
    expect(page.get_by_role("heading", name=re.compile(r"^昨日批处理"))).to_be_visible()
    expect(page.get_by_text("已完成", exact=True)).to_be_visible()
    # A scheduler reads the queues' counts but is not linked to them.
    expect(page.get_by_role("link", name="打开审核队列")).to_have_count(0)
    assert_accessible(page)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "console-today.png"))

    # The scarce-supply table names the draw-mode departments; one leads to its draws.
    fill = first.get_by_role("table").last
    expect(fill).to_contain_text("摇号")
    fill.get_by_role("link", name="眼科 Ophthalmology").click()
    page.wait_for_url(re.compile(r".*/console/draws\?department=\d+$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("摇号记录")
    rows = page.get_by_role("table").locator("tbody tr")
    expect(rows.first).to_contain_text("眼科 Ophthalmology")
    expect(rows.first).to_contain_text("已验证 ✓")
    assert_accessible(page)

    rows.first.get_by_role("link", name=re.compile(r"^查看摇号 \d+$")).click()
    page.wait_for_url(re.compile(r".*/console/draws/\d+$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("眼科 Ophthalmology")
    expect(page.get_by_role("status").first).to_contain_text("验证通过")
    checks = page.locator("ul.checks-list li")
    expect(checks).to_have_count(3)
    for n in range(3):
        expect(checks.nth(n)).to_contain_text("✓")
    published = page.locator("section", has=page.get_by_role("heading", name="公开数据"))
    expect(published.locator("code").first).to_have_text(re.compile(r"^[0-9a-f]{64}$"))
    assert_accessible(page)
    page.screenshot(path=str(SCREENSHOTS / "console-draw.png"))
