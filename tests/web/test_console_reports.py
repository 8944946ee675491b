"""A reviewer reads the demo's daily report in a browser: yesterday's scalper found by the
paper's first rule, the pictures, the CSV, and a day the batch has not run for."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

from playwright.sync_api import Page, expect

from factories.browser import DemoSite, assert_accessible, sign_in

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def _pictures_loaded(page: Page) -> None:
    pictures = page.locator("img.plot")
    expect(pictures).to_have_count(4)
    page.wait_for_function(
        "() => [...document.querySelectorAll('img.plot')]"
        ".every(img => img.complete && img.naturalWidth > 0)"
    )


def test_a_reviewer_reads_yesterdays_report_with_its_plots_and_downloads_the_csv(
    page: Page, demo_site: DemoSite
) -> None:
    yesterday = demo_site.seed.example.report_date.isoformat()
    sign_in(page, demo_site, "reviewer")
    page.get_by_role("navigation", name="功能菜单").get_by_role("link", name="每日报告").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"每日风险报告 · {yesterday}")
    expect(page.get_by_label("报告日期")).to_have_value(yesterday)

    # The paper's first rule caught the scalper's card: five paid bookings, threshold five.
    rules = page.locator("table.report-rules")
    rule = rules.get_by_role("row").filter(has_text="同一支付账户同科室多次支付")
    expect(rule).to_contain_text("同一支付账户 7 天内在同一科室支付 ≥ 5 笔预约")
    expect(rule.get_by_role("cell").nth(2)).to_have_text("1")
    hits = page.locator("#rule-same_payment_same_department + .table-wrap")
    expect(hits.get_by_role("row").nth(1)).to_contain_text("5 / 5")
    case_link = hits.get_by_role("link", name="案件 #")
    expect(case_link).to_have_attribute("href", re.compile(r"^/console/cases/\d+$"))

    _pictures_loaded(page)
    expect(page.get_by_role("img", name="稀缺号源")).to_be_visible()
    assert_accessible(page)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "console-report.png"))

    with page.expect_download() as download:
        page.get_by_role("link", name="下载 CSV").click()
    assert download.value.suggested_filename == f"fairslot-risk-report-{yesterday}.csv"
    content = Path(download.value.path()).read_text("utf-8-sig")
    assert "same_payment_same_department,1" in content

    # A day the batch has not run for says what to do.
    day_before = (demo_site.seed.example.report_date - timedelta(days=20)).isoformat()
    page.get_by_label("报告日期").fill(day_before)
    page.get_by_role("button", name="查看").click()
    expect(page.get_by_role("status")).to_contain_text(f"{day_before} 还没有风险筛查结果")
    expect(page.get_by_text(f"fairslot risk run --date {day_before}")).to_be_visible()
    assert_accessible(page)
