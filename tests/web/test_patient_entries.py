"""Draws, waitlists (候补) and messages on a phone (390×844, touch) in Debian's chromium, on
the demo as ``./run demo`` seeds it (``demo/pages.py``: a draw taking entries now, a full
session with patients waiting): a patient enters the draw, the draw runs at its release,
she sees she won and checks the draw's published record; she joins the waitlist, slots
come back and she is booked; her messages say so. Typing at human pace (a key every
120 ms, a second's thought before each tap). Every page accessible, nothing loaded from
outside, no policy violation."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Locator, Page, expect
from sqlalchemy import select

from factories.browser import DemoSite, assert_accessible, new_page
from factories.patient_pages import SmsLog
from fairslot.allocation import drawing
from fairslot.allocation import service as allocation
from fairslot.bookings import service as bookings
from fairslot.bookings.models import Booking
from fairslot.bookings.policy import booking_policy
from fairslot.bookings.states import BookingStatus
from fairslot.channels.models import ChannelKind
from fairslot.context import edge_context
from fairslot.db.engine import unit_of_work
from fairslot.schedules.models import ClinicSession, Slot
from fairslot.signin import service as signin
from fairslot.waitlist import sweeps

PHONE_SCREEN = {"width": 390, "height": 844}
SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
KEY_DELAY_MS = 120
THINK_S = 1.0
SECOND = timedelta(seconds=1)


@pytest.fixture
def phone(browser: Browser, demo_site: DemoSite) -> Iterator[Page]:
    context, page = new_page(
        browser, demo_site, viewport=PHONE_SCREEN, is_mobile=True, has_touch=True
    )
    violations: list[str] = []

    def watch(message: Any) -> None:
        if message.type == "error" and "Content Security Policy" in message.text:
            violations.append(message.text)

    page.on("console", watch)
    page.on("pageerror", lambda error: violations.append(f"script error: {error}"))
    yield page
    context.close()
    assert not demo_site.outside, f"requests left the server: {demo_site.outside}"
    assert not violations, f"the page broke its policy or threw: {violations}"


@dataclass
class Person:
    """Acts at human pace: a second's thought before each tap, a key every 120 ms."""

    page: Page

    def tap(self, target: Locator) -> None:
        time.sleep(THINK_S)
        target.tap()

    def type(self, field_: Locator, text: str) -> None:
        time.sleep(THINK_S)
        field_.tap()
        field_.press_sequentially(text, delay=KEY_DELAY_MS)

    def look(self, shot: str | None = None, *, full: bool = True) -> None:
        """The page passes the accessibility check; its phone-sized picture is kept (the
        whole page, or the screen a person sees)."""
        assert_accessible(self.page)
        if shot:
            self.page.screenshot(path=str(SHOTS / f"patient-{shot}.png"), full_page=full)


def demo_number(site: DemoSite) -> str:
    with unit_of_work(site.platform.sessions) as db:
        channel = signin.pages_channel(db)
        number = signin.demo_phone(db, channel=channel, protector=site.platform.protector)
    assert number is not None
    return number.removeprefix("+86")


def signs_in(person: Person, site: DemoSite, sms: SmsLog, *, then: str) -> None:
    page = person.page
    number = demo_number(site)
    page.goto(f"/login?next={then}")
    person.type(page.get_by_label("手机号"), number)
    person.tap(page.get_by_role("button", name="获取验证码"))
    expect(page.get_by_role("heading", name="输入验证码")).to_be_visible()
    person.type(page.get_by_label("6 位验证码"), sms.code_for(number))
    person.tap(page.get_by_role("button", name="登录", exact=True))


def to_department(person: Person, site: DemoSite, name: str) -> None:
    """The example hospital (the demo seeds its draw and its full session) → ``name``."""
    page = person.page
    expect(page.get_by_role("heading", name="选择医院")).to_be_visible()
    hospital = next(h.name for h in site.seed.hospitals if h.code == site.seed.example.hospital)
    person.tap(page.locator("a.pick", has_text=hospital).first)
    person.tap(page.locator("a.pick", has_text=name).first)
    expect(page.get_by_role("heading", name=name)).to_be_visible()


def run_draw_at_release(site: DemoSite, session_id: int) -> None:
    """The worker's job at the release (the demo's clock runs at real speed: the draw is run
    as it will be at its due time)."""
    platform = site.platform
    with unit_of_work(platform.sessions) as db:
        draw = allocation.draw_of_session(db, session_id=session_id)
        drawing.run_draw(
            db,
            draw=draw,
            now=draw.due_at + SECOND,
            policy=booking_policy(platform.settings),
            rng=platform.rng,
            protector=platform.protector,
            desk=platform.screening_desk,
        )


def test_a_patient_enters_the_open_draw_and_sees_the_verified_result(
    phone: Page, demo_site: DemoSite, sms_log: SmsLog
) -> None:
    pages = demo_site.seed.pages
    assert pages is not None and pages.draw_session_id is not None
    person = Person(phone)
    signs_in(person, demo_site, sms_log, then="/book")
    to_department(person, demo_site, pages.draw_department)
    expect(phone.get_by_text("现在可以登记摇号。").first).to_be_visible()
    expect(phone.get_by_role("timer").first).to_contain_text(re.compile(r"\d+ (天|小时|分)"))
    expect(phone.get_by_role("timer").first).not_to_contain_text(":")
    enter = phone.get_by_role("link", name="登记摇号", exact=False).first
    enter.scroll_into_view_if_needed()
    person.look("draw-grid", full=False)
    person.tap(enter)

    expect(phone.get_by_role("heading", name="登记摇号", exact=True)).to_be_visible()
    expect(phone.get_by_text("中签才扣款，未中签自动释放", exact=False)).to_be_visible()
    person.look("draw")
    person.tap(phone.get_by_role("button", name="登记摇号"))

    expect(phone.get_by_role("heading", name="我的摇号")).to_be_visible()
    expect(phone.get_by_role("status").first).to_contain_text("已登记摇号")
    person.look("draw-entered")
    entry_url = phone.url.split("?")[0]

    run_draw_at_release(demo_site, pages.draw_session_id)
    phone.goto(entry_url)
    expect(phone.get_by_text("中签了！已为您预约成功", exact=False)).to_be_visible()
    expect(phone.get_by_text("请携带就诊人身份证原件", exact=False)).to_be_visible()
    person.look("draw-won")

    person.tap(phone.get_by_role("link", name="查看摇号公示"))
    expect(phone.get_by_role("heading", name="摇号公示")).to_be_visible()
    expect(phone.get_by_text("✓ 已核对", exact=False)).to_be_visible()
    expect(phone.get_by_role("heading", name="您的登记")).to_be_visible()
    person.look("draw-record")

    # The result is a message: counted in the header until it is read.
    inbox = phone.locator("header a.inbox")
    expect(inbox).to_contain_text("未读")
    person.tap(inbox)
    expect(phone.get_by_role("heading", name="消息", exact=True)).to_be_visible()
    expect(phone.get_by_role("heading", name="新 摇号中签")).to_be_visible()
    person.look("notifications")
    phone.goto("/bookings")
    expect(phone.get_by_text(pages.draw_department).first).to_be_visible()
    expect(phone.locator("header a.inbox")).not_to_contain_text("未读")


def return_slots(site: DemoSite, session_id: int, count: int) -> datetime:
    """Other families cancel ``count`` bookings of the session; when their slots' random
    cooling has ended (returned)."""
    platform = site.platform
    policy = booking_policy(platform.settings)
    with unit_of_work(platform.sessions) as db:
        found = db.scalars(
            select(Booking)
            .where(Booking.session_id == session_id, Booking.status == BookingStatus.BOOKED)
            .order_by(Booking.id)
            .limit(count)
        ).all()
        assert len(found) == count
        now = platform.clock.now()
        for booking in found:
            bookings.cancel(
                db,
                booking_id=booking.id,
                account_id=booking.account_id,
                now=now,
                ctx=edge_context(
                    protector=platform.protector,
                    actor="patient",
                    channel_id=booking.channel_id,
                    account_id=booking.account_id,
                    device_id=f"demo-cancel-{booking.account_id}",
                ),
                channel_kind=ChannelKind.WECHAT,
                policy=policy,
                rng=platform.rng,
            )
        db.flush()
        slots = db.scalars(select(Slot).where(Slot.id.in_([b.slot_id for b in found]))).all()
        return max(s.reopen_at for s in slots if s.reopen_at is not None)


def test_a_patient_joins_the_waitlist_and_is_booked_when_slots_return(
    phone: Page, demo_site: DemoSite, sms_log: SmsLog
) -> None:
    pages = demo_site.seed.pages
    assert pages is not None and pages.full_session_id is not None
    person = Person(phone)
    signs_in(person, demo_site, sms_log, then="/book")
    to_department(person, demo_site, pages.full_department)
    waitlist_link = phone.locator(f'a[href="/waitlist/session/{pages.full_session_id}"]')
    waitlist_link.scroll_into_view_if_needed()
    person.tap(waitlist_link)

    expect(phone.get_by_role("heading", name="加入候补", exact=True)).to_be_visible()
    expect(phone.get_by_text("交给随机抽中的一位候补患者", exact=False)).to_be_visible()
    person.look("waitlist")
    person.tap(phone.get_by_role("button", name="加入候补"))

    expect(phone.get_by_role("heading", name="摇号与候补")).to_be_visible()
    expect(phone.get_by_text("候补中").first).to_be_visible()
    person.look("entries")

    # Every waiting patient gets one of the returned slots: as many return as wait.
    returned_at = return_slots(demo_site, pages.full_session_id, pages.waiting + 1)
    platform = demo_site.platform
    with unit_of_work(platform.sessions) as db:
        report = sweeps.sweep(
            db,
            now=returned_at + SECOND,
            policy=booking_policy(platform.settings),
            rng=platform.rng,
            protector=platform.protector,
        )
    assert report.waitlist_booked == pages.waiting + 1

    phone.goto("/bookings")
    with unit_of_work(platform.sessions) as db:
        session = db.get(ClinicSession, pages.full_session_id)
        assert session is not None
        doctor_day = session.session_date
    expect(phone.get_by_text(pages.full_department).first).to_be_visible()
    expect(phone.get_by_text(f"{doctor_day:%Y-%m-%d}", exact=False).first).to_be_visible()
    person.look("waitlist-booked")
    phone.goto("/notifications")
    expect(phone.get_by_role("heading", name="新 候补成功")).to_be_visible()
    assert_accessible(phone)
    phone.goto("/entries")
    expect(phone.get_by_text("候补成功").first).to_be_visible()


def test_the_elder_mode_enters_a_draw_in_large_type(
    phone: Page, demo_site: DemoSite, sms_log: SmsLog
) -> None:
    pages = demo_site.seed.pages
    assert pages is not None and pages.draw_session_id is not None
    phone.goto("/elder?on=1&next=/")
    expect(phone.locator("body")).to_have_class("patient elder")
    person = Person(phone)
    signs_in(person, demo_site, sms_log, then=f"/draw/session/{pages.draw_session_id}")
    expect(phone.get_by_role("heading", name="登记摇号", exact=True)).to_be_visible()
    person.look("elder-draw")
    person.tap(phone.get_by_role("button", name="登记摇号"))
    expect(phone.get_by_role("heading", name="我的摇号")).to_be_visible()
    person.look()
