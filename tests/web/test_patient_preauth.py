"""Entering the demo's open draw on a phone (390×844, touch) in Debian's chromium with a
configured payment provider: the patient is sent to the provider's gateway (a local HTTP
server standing in for it), authorises the fee there, the gateway's signed callback
reaches the platform server to server, and she is back on the site, entered. Nothing
else leaves the site; every page of the site accessible, no policy violation."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from factories.browser import DemoSite, assert_accessible, new_page
from factories.gateway import SECRET, Gateway, running_gateway
from factories.patient_pages import SmsLog
from fairslot.db.engine import unit_of_work
from fairslot.payments.providers import HttpProvider
from fairslot.signin import service as signin

PHONE_SCREEN = {"width": 390, "height": 844}
SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@pytest.fixture
def gateway(demo_site: DemoSite) -> Iterator[Gateway]:
    with running_gateway(site=demo_site.base_url) as found:
        demo_site.platform.extras["payment_provider"] = HttpProvider(url=found.url, secret=SECRET)
        yield found


@pytest.fixture
def phone(browser: Browser, demo_site: DemoSite, gateway: Gateway) -> Iterator[Page]:
    context, page = new_page(
        browser, demo_site, viewport=PHONE_SCREEN, is_mobile=True, has_touch=True
    )
    # The provider's gateway is the one other address the patient is sent to.
    context.route(gateway.url.rsplit("/", 1)[0] + "/**", lambda route: route.continue_())
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


def demo_number(site: DemoSite) -> str:
    with unit_of_work(site.platform.sessions) as db:
        channel = signin.pages_channel(db)
        number = signin.demo_phone(db, channel=channel, protector=site.platform.protector)
    assert number is not None
    return number.removeprefix("+86")


def test_a_patient_preauthorises_at_the_provider_and_comes_back_entered(
    phone: Page, demo_site: DemoSite, gateway: Gateway, sms_log: SmsLog
) -> None:
    pages = demo_site.seed.pages
    assert pages is not None and pages.draw_session_id is not None
    number = demo_number(demo_site)
    phone.goto(f"/login?next=/draw/session/{pages.draw_session_id}")
    phone.get_by_label("手机号").fill(number)
    phone.get_by_role("button", name="获取验证码").click()
    phone.get_by_label("6 位验证码").fill(sms_log.code_for(number))
    phone.get_by_role("button", name="登录", exact=True).click()

    expect(phone.get_by_role("heading", name="登记摇号", exact=True)).to_be_visible()
    expect(phone.get_by_text("跳转到支付机构完成预授权", exact=False)).to_be_visible()
    assert_accessible(phone)
    phone.screenshot(path=str(SHOTS / "patient-draw-provider.png"), full_page=True)
    phone.get_by_role("button", name="去预授权并登记摇号").tap()

    # At the provider's gateway: it checked the platform's signature of the request.
    expect(phone.get_by_role("heading", name="网关收银台")).to_be_visible()
    assert gateway.seen and gateway.seen[-1]["action"] == "preauthorise"
    phone.get_by_role("button", name="确认授权").tap()

    # The gateway's callback reached the platform before she came back: she is entered.
    expect(phone.get_by_role("heading", name="我的摇号")).to_be_visible()
    expect(phone.get_by_role("status").first).to_contain_text("已登记摇号")
    assert_accessible(phone)
    delivered = gateway.delivered[-1]
    assert delivered.path == "/pay/preauth/callback/http" and delivered.status == 200
    assert '"status":"entered"' in delivered.body
    assert not gateway.refused
