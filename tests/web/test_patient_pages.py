"""A patient's journeys on a phone (390×844, touch) in Debian's chromium, on the demo:
sign in with the code from the text message, bind a family member, see and cancel a
booking, ask for help; the elder-friendly mode; every page accessible, nothing loaded
from outside, no policy violation."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from factories.browser import DemoSite, assert_accessible, new_page
from factories.demand import resident_id
from factories.patient_pages import SmsLog
from fairslot.bookings import service as bookings
from fairslot.bookings.policy import booking_policy
from fairslot.context import RequestContext
from fairslot.db.engine import unit_of_work
from fairslot.patients import service as patients
from fairslot.patients.identity import Sex
from fairslot.signin import service as signin

PHONE_SCREEN = {"width": 390, "height": 844}
SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


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


def shot(page: Page, name: str) -> None:
    page.screenshot(path=str(SHOTS / f"patient-{name}.png"), full_page=True)


def demo_patient(site: DemoSite) -> tuple[str, str]:
    """The demo's hospital-app user: his phone, and a booking of his (arranged here
    through the services, as his app would have made it)."""
    platform = site.platform
    with unit_of_work(platform.sessions) as db:
        channel = signin.pages_channel(db)
        phone = signin.demo_phone(db, channel=channel, protector=platform.protector)
        assert phone is not None
        account = signin.repo.account_for_phone(
            db,
            phone_hash=signin.phone_key(phone, protector=platform.protector),
            channel_id=channel.id,
        )
        assert account is not None
        now = platform.clock.now()
        patient_id = patients.list_patients(
            db, account_id=account.id, now=now, protector=platform.protector
        )[0].patient_id
        session_id = site.seed.example.session_id
        assert session_id is not None
        slot_id = bookings.first_free_slot(
            db, session_id=session_id, now=now, channel_id=channel.id
        )
        ctx = RequestContext(
            actor="patient", channel_id=channel.id, account_id=account.id, device_key="arrange"
        )
        held = bookings.hold(
            db,
            account_id=account.id,
            patient_id=patient_id,
            slot_id=slot_id,
            now=now,
            ctx=ctx,
            policy=booking_policy(platform.settings),
            rng=platform.rng,
        )
        bookings.confirm(
            db,
            booking_id=held.id,
            account_id=account.id,
            payment_account="demo-pay",
            payment_reference="DEMO-1",
            now=now,
            ctx=ctx,
            protector=platform.protector,
        )
        booking_id = held.id
    return phone.removeprefix("+86"), booking_id


def sign_in_by_code(page: Page, sms: SmsLog, phone: str) -> None:
    page.get_by_label("手机号").fill(phone)
    page.get_by_role("button", name="获取验证码").click()
    expect(page.get_by_role("heading", name="输入验证码")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("6 位验证码").fill(sms.code_for(phone))
    page.get_by_role("button", name="登录", exact=True).click()


def test_a_patient_signs_in_with_a_code_binds_her_mother_and_cancels_a_booking(
    phone: Page, demo_site: DemoSite, sms_log: SmsLog
) -> None:
    number, _ = demo_patient(demo_site)
    phone.goto("/")
    expect(phone.get_by_role("heading", name="预约挂号", level=1)).to_be_visible()
    assert_accessible(phone)
    shot(phone, "home")

    phone.get_by_role("link", name="我的预约").click()
    expect(phone.get_by_role("heading", name="手机号登录")).to_be_visible()
    expect(phone.get_by_text("验证码不会发到手机")).to_be_visible()  # the demo banner
    assert_accessible(phone)
    shot(phone, "login")
    sign_in_by_code(phone, sms_log, number)

    expect(phone.get_by_role("heading", name="我的预约")).to_be_visible()
    expect(phone.get_by_text("已预约")).to_be_visible()
    expect(phone.get_by_text("随机时间重新放出", exact=False)).to_be_visible()
    assert_accessible(phone)
    shot(phone, "bookings")

    phone.goto("/family")
    phone.get_by_label("姓名").fill("王秀兰")
    phone.get_by_label("身份证号").fill(resident_id(sex=Sex.FEMALE, birth_date=date(1956, 4, 2)))
    phone.get_by_label("就诊人手机号").fill("13912345678")
    phone.get_by_label("与您的关系").select_option("parent")
    phone.get_by_role("button", name="添加").click()
    expect(phone.get_by_text("已添加就诊人。")).to_be_visible()
    expect(phone.get_by_role("heading", name="王*兰 父母")).to_be_visible()
    assert_accessible(phone)
    shot(phone, "family")

    phone.goto("/bookings")
    phone.get_by_text("取消预约", exact=True).first.click()  # then a second tap confirms
    expect(phone.get_by_text("确定要取消吗", exact=False)).to_be_visible()
    phone.get_by_role("button", name="确认取消").click()
    expect(phone.get_by_text("已取消预约。")).to_be_visible()
    expect(phone.get_by_text("没有待就诊的预约。")).to_be_visible()
    expect(phone.locator(".booking.past").first).to_contain_text("已取消")
    assert_accessible(phone)

    phone.goto("/help")
    phone.get_by_label("遇到了什么问题（可不填）").fill("付款后没有收到短信")
    phone.get_by_role("button", name="请客服回电").click()
    expect(phone.get_by_text("客服会在工作时间给您回电", exact=False)).to_be_visible()
    assert_accessible(phone)
    shot(phone, "help")


def test_a_wrong_code_is_explained_and_a_refusal_page_is_accessible(
    phone: Page, demo_site: DemoSite, sms_log: SmsLog
) -> None:
    phone.goto("/login")
    phone.get_by_label("手机号").fill("13700001111")
    phone.get_by_role("button", name="获取验证码").click()
    right = sms_log.code_for("13700001111")
    phone.get_by_label("6 位验证码").fill(f"{(int(right) + 1) % 10**6:06d}")
    phone.get_by_role("button", name="登录", exact=True).click()
    expect(phone.get_by_role("alert")).to_contain_text("验证码不对，还可以再试 4 次")
    assert_accessible(phone)
    phone.goto("/no-such-page")
    expect(phone.get_by_role("alert")).to_contain_text("找不到这个页面")
    assert_accessible(phone)
    phone.goto("/family/1/unbind")  # a GET on an action: a plain refusal page
    expect(phone.get_by_role("heading", name="没有办成")).to_be_visible()
    assert_accessible(phone)


def test_the_elder_mode_shows_large_type_and_one_big_button_a_row(
    phone: Page, demo_site: DemoSite
) -> None:
    phone.goto("/")
    phone.get_by_role("link", name="大字模式").click()
    expect(phone.locator("body")).to_have_class("patient elder")
    # The class can be on the new page before its stylesheet has applied: wait for the
    # large type itself (fails after the timeout if it never comes).
    phone.wait_for_function("() => parseFloat(getComputedStyle(document.body).fontSize) >= 20")
    phone.wait_for_load_state("load")
    tile = phone.get_by_role("link", name="我的预约").bounding_box()
    assert tile is not None and tile["width"] > 300 and tile["height"] >= 90
    assert_accessible(phone)
    shot(phone, "elder")
    phone.get_by_role("link", name="English").click()
    expect(phone.get_by_role("link", name="My bookings")).to_be_visible()
    assert_accessible(phone)
    phone.get_by_role("link", name="Standard text").click()
    expect(phone.locator("body")).to_have_class("patient")
