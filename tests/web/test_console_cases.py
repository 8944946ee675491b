"""A reviewer judges yesterday's scalper in the console and his phone is refused on every
channel; an auditor reads the same case without the means to decide it."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
from playwright.sync_api import Page, expect
from sqlalchemy import select

from factories.browser import DemoSite, assert_accessible, sign_in
from fairslot.patients.models import Account, Binding

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def scalpers_account_and_patient(site: DemoSite) -> tuple[int, int]:
    """The account the demo's scalper opened on WeChat and one identity bound to it."""
    with site.platform.sessions() as db:
        account = db.scalars(
            select(Account).where(Account.external_ref == "demo-scalper-wechat")
        ).one()
        patient_id = db.scalars(
            select(Binding.patient_id).where(Binding.account_id == account.id).limit(1)
        ).one()
        return account.id, patient_id


def a_free_session(client: httpx.Client, site: DemoSite) -> int:
    example = site.seed.example
    found = client.get(
        "/v1/availability",
        params={
            "department_id": example.department_id,
            "date_from": example.date_from.isoformat(),
            "date_to": example.date_to.isoformat(),
        },
    )
    assert found.status_code == 200, found.text
    return next(int(s["session_id"]) for s in found.json() if s["free"] > 0)


def test_a_reviewer_takes_yesterdays_scalper_case_confirms_it_and_his_phone_is_refused(
    page: Page, demo_site: DemoSite
) -> None:
    sign_in(page, demo_site, "reviewer")
    page.goto("/console/cases")
    queue = page.get_by_role("table")
    # The scalper's case waits to be taken; the elderly woman's waits on her call.
    scalper = queue.get_by_role("row").filter(has_text="同一支付账户同科室多次付费")
    expect(scalper).to_contain_text("待审核")
    expect(queue.get_by_role("row").filter(has_text="取消后未就诊")).to_contain_text("待回访")
    assert_accessible(page)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "console-queue.png"))

    page.get_by_role("button", name="领取下一个案件").first.click()
    page.wait_for_url(re.compile(r".*/console/cases/\d+\?done=cases_taken$"))
    expect(page.get_by_role("status")).to_contain_text("已领取案件")
    findings = page.locator("section", has=page.get_by_role("heading", name="命中规则"))
    expect(findings.locator(".figure")).to_have_text("5")
    expect(findings).to_contain_text("笔已付费预约")
    expect(findings).to_contain_text("心内科")
    expect(findings).to_contain_text("阈值 ≥ 5")
    timeline = page.locator("ol.case-timeline > li")
    expect(timeline).to_have_count(10)  # five holds, five payments
    expect(timeline.first).to_contain_text("锁号")
    expect(timeline.first.get_by_role("link", name=re.compile("号源"))).to_have_attribute(
        "href", re.compile(r"^/console/slots/[0-9a-f-]{36}$")
    )
    ring = page.get_by_role("img", name=re.compile("关系图"))
    expect(ring).to_be_visible()
    # five identities, two accounts, one phone, one device, one network, one card
    expect(ring.locator("circle")).to_have_count(11)
    expect(ring.locator("circle.shared")).to_have_count(4)
    page.get_by_text("以表格查看关系图").click()
    expect(page.get_by_role("table").filter(has_text="关联患者数")).to_contain_text("139****")
    page.get_by_text("以表格查看关系图").click()
    assert_accessible(page)
    page.goto(page.url.split("?")[0])  # the case as it reads without the flash message
    page.screenshot(path=str(SCREENSHOTS / "console-case.png"))

    form = page.locator("form.confirm-form")
    for scope in ("patient", "account", "device", "network"):
        form.locator(f"input[name=scopes][value={scope}]").uncheck()
    for scope in ("phone", "payment"):
        form.locator(f"input[name=scopes][value={scope}]").check()
    expect(form.locator("input[name=scopes][value=phone]")).to_be_checked()
    form.get_by_label("确认理由").fill("一张卡为五个身份在心内科挂号，号贩子")
    form.get_by_role("button", name="确认并拉黑").click()
    expect(page.get_by_role("status")).to_contain_text("已确认：所选标识已拉黑")
    expect(page.get_by_text("该案件已确认，决定不可更改。")).to_be_visible()
    expect(page.locator("form.confirm-form")).to_have_count(0)

    account_id, patient_id = scalpers_account_and_patient(demo_site)
    headers = {
        "X-Channel-Key": demo_site.channel_key("wechat"),
        # A new handset on another network: only the patient's phone is known.
        "X-Device-Id": "a-brand-new-handset",
        "X-End-User-IP": "203.0.113.200",
    }
    with httpx.Client(base_url=demo_site.base_url, headers=headers, timeout=10) as client:
        session_id = a_free_session(client, demo_site)
        held = client.post(
            "/v1/holds",
            json={"account_id": account_id, "patient_id": patient_id, "session_id": session_id},
        )
    assert held.status_code == 403, held.text
    assert held.json()["error"] == "request_blocked", held.text


def test_an_auditor_reads_the_case_without_decision_buttons_and_a_forged_confirm_is_refused(
    page: Page, demo_site: DemoSite
) -> None:
    sign_in(page, demo_site, "auditor")
    page.goto("/console/cases")
    expect(page.get_by_role("button", name="领取下一个案件")).to_have_count(0)
    scalper = page.get_by_role("row").filter(has_text="同一支付账户同科室多次付费")
    scalper.get_by_role("link", name=re.compile(r"案件 #\d+")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("案件 #")
    expect(page.get_by_text("只读：您的角色可以查看案件，但不能作决定。")).to_be_visible()
    for name in ("确认并拉黑", "驳回案件", "请求回访", "放回队列"):
        expect(page.get_by_role("button", name=name)).to_have_count(0)
    expect(page.get_by_role("img", name=re.compile("关系图")).locator("circle")).to_have_count(11)
    assert_accessible(page)

    case_url = page.url.split("?")[0]
    token = page.locator("input[name=csrf_token]").first.get_attribute("value")
    forged = page.request.post(
        f"{case_url}/confirm",
        form={
            "csrf_token": token or "",
            "scopes": "phone",
            "expiry": "permanent",
            "reason": "forged",
        },
        max_redirects=0,
    )
    assert forged.status == 403
    assert "role_required" in forged.text()
    page.reload()
    expect(page.locator(".cases-head .badge")).to_have_text("待审核")  # nothing changed
