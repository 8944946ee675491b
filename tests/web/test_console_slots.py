"""A reviewer traces a slot of yesterday's scalper from its GUID, then finds the same slot
from the booking id — on the demo data, in a browser, each page checked for accessibility."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page, expect
from sqlalchemy import select

from factories.browser import DemoSite, assert_accessible, sign_in
from fairslot.bookings.models import Booking
from fairslot.patients.models import Account

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def a_scalper_booking(site: DemoSite) -> Booking:
    """One of the bookings the demo's scalper made yesterday on WeChat."""
    with site.platform.sessions() as db:
        account = db.scalars(
            select(Account).where(Account.external_ref == "demo-scalper-wechat")
        ).one()
        found = db.scalars(
            select(Booking).where(Booking.account_id == account.id).order_by(Booking.held_at)
        ).first()
        assert found is not None, "the demo's scalper has no booking"
        return found


def test_a_reviewer_traces_a_slot_from_its_guid(page: Page, demo_site: DemoSite) -> None:
    booking = a_scalper_booking(demo_site)
    sign_in(page, demo_site, "reviewer")
    page.get_by_role("navigation", name="功能菜单").get_by_role("link", name="号源追踪").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("号源追踪")
    assert_accessible(page)

    page.get_by_label("号源 GUID", exact=True).fill(booking.slot_id)
    page.get_by_role("button", name="查看账本").click()
    page.wait_for_url(f"**/console/slots/{booking.slot_id}")
    expect(page.get_by_role("status").first).to_contain_text("账本重放得到「已预约」")
    timeline = page.locator("ol.timeline > li")
    expect(timeline.first).to_contain_text("医院推送")
    expect(timeline.filter(has_text="预约成功")).to_have_count(1)
    booked = timeline.filter(has_text="预约成功")
    expect(booked).to_contain_text(re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}"))
    expect(booked).to_contain_text(re.compile(r"\*{4}[0-9X]{4}"))  # the patient, masked
    expect(booked).to_contain_text("微信")
    content = page.content()
    assert booking.device_key and booking.device_key not in content
    assert booking.ip_key and booking.ip_key not in content
    assert_accessible(page)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "console-slot.png"))

    page.get_by_role("link", name=re.compile("重新查询")).click()
    page.get_by_label("预约单号", exact=True).fill(booking.id)
    page.get_by_role("button", name="查找该预约的号源").click()
    page.wait_for_url(f"**/console/slots/{booking.slot_id}")
    page.goto("/console/slots/00000000-0000-4000-8000-000000000000")
    expect(page.get_by_role("alert")).to_contain_text("找不到该号源")
    assert_accessible(page)
