"""Entering a draw or a waitlist with a configured payment provider (``HttpProvider``),
over HTTP, against a local HTTP server standing in as the provider's gateway: the patient
is sent to the gateway with a signed request to pre-authorise the fee; the gateway's
signed callback makes the entry, once however often it comes; a cancelled one enters
nothing; one that comes after the window closed releases the funds and says so. On both
backends."""

from __future__ import annotations

import datetime as dt
import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from factories.gateway import PAYER, SECRET, Delivery, Gateway, running_gateway
from factories.patient_pages import SmsLog, signed_in_with_patient
from factories.supply import create_doctor
from factories.world import RELEASED_DAY, UNRELEASED_DAY, World
from fairslot.allocation.models import Intent
from fairslot.allocation.states import AllocationMode, IntentStatus
from fairslot.bookings import service as bookings
from fairslot.bootstrap import Platform
from fairslot.payments import preauth_orders
from fairslot.payments import repository as payments_repo
from fairslot.payments.models import PreauthOrder
from fairslot.payments.providers import HttpProvider
from fairslot.payments.states import PreauthStatus
from fairslot.schedules.models import ClinicSession
from fairslot.waitlist.models import WaitlistEntry, WaitStatus
from fairslot.web.site import create_site

MIN = dt.timedelta(minutes=1)
RETURN = re.compile(r"^/preauth/([0-9a-f-]+)$")


class NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


BROWSER = urllib.request.build_opener(NoRedirects)  # a browser that shows where it is sent


@pytest.fixture
def gateway(platform: Platform) -> Iterator[Gateway]:
    with running_gateway() as found:
        platform.extras["payment_provider"] = HttpProvider(url=found.url, secret=SECRET)
        yield found


@pytest.fixture
def site(platform: Platform, app_world: World, gateway: Gateway) -> Iterator[TestClient]:
    with TestClient(create_site(platform), base_url="http://testserver") as client:
        yield client


def draw_world(world: World) -> ClinicSession:
    world.department = world.department_(allocation_mode=AllocationMode.DRAW)
    world.doctor = create_doctor(world.db, hospital=world.hospital, department=world.department)
    world.db.commit()
    session = world.session(day=UNRELEASED_DAY, capacity=1)
    world.platform.clock.set(session.push_at + MIN)
    return session


def to_gateway(site: TestClient, gateway: Gateway, form: dict[str, Any], path: str) -> str:
    """The patient enters; she is sent to the gateway, which checks the platform's
    signature and shows its cashier. The order id the gateway was asked about."""
    sent = site.post(path, data=form, follow_redirects=False)
    assert sent.status_code == 303, sent.text
    location = sent.headers["location"]
    assert location.startswith(gateway.url + "?"), location
    with BROWSER.open(location, timeout=10) as cashier:
        assert cashier.status == 200 and "确认授权" in cashier.read().decode()
    asked = gateway.seen[-1]
    assert asked["action"] == "preauthorise" and asked["currency"] == "CNY"
    found = RETURN.match(asked["return_url"])
    assert found, asked
    assert found.group(1) == asked["order_id"]
    return asked["order_id"]


def draw_entry_at_gateway(
    site: TestClient, world: World, gateway: Gateway, sms_log: SmsLog
) -> tuple[ClinicSession, dict[str, Any], str]:
    """A signed-in patient enters a fresh draw and is sent to the provider: the session,
    the entry form and the pre-authorisation order's id."""
    session = draw_world(world)
    csrf, patient_id = signed_in_with_patient(site, sms_log)
    form = {"session_id": session.id, "patient_id": patient_id, "csrf_token": csrf}
    return session, form, to_gateway(site, gateway, form, "/draw/enter")


def answer(gateway: Gateway, outcome: str) -> Delivery:
    """The patient answers at the gateway's cashier; the gateway signs the callback and
    sends her back to the platform's return page."""
    asked = gateway.seen[-1]
    body = urlencode({**asked, "outcome": outcome}).encode()
    try:
        BROWSER.open(gateway.url + "/answer", data=body, timeout=10)
        raise AssertionError("the gateway did not send the patient back")
    except urllib.error.HTTPError as sent_back:
        assert sent_back.code == 303 and sent_back.headers["Location"] == asked["return_url"]
    return gateway.undelivered.pop()


def test_the_providers_signed_callback_enters_the_draw_once(
    site: TestClient, app_world: World, gateway: Gateway, sms_log: SmsLog, db: Session
) -> None:
    session = draw_world(app_world)
    csrf, patient_id = signed_in_with_patient(site, sms_log)
    page = site.get(f"/draw/session/{session.id}")
    assert "去预授权并登记摇号" in page.text and "只冻结、不扣款" in page.text
    # The browser follows the form's redirect to the provider only if the policy says so.
    gateway_origin = gateway.url.removesuffix("/cashier")
    assert f"form-action 'self' {gateway_origin};" in page.headers["content-security-policy"]

    form = {"session_id": session.id, "patient_id": patient_id, "csrf_token": csrf}
    order_id = to_gateway(site, gateway, form, "/draw/enter")
    assert gateway.seen[-1]["amount"] == f"{session.fee:.2f}"
    assert db.scalar(select(Intent.id)) is None  # nothing entered before the provider says so
    db.commit()
    callback = answer(gateway, "authorised")

    # Back before the callback: she waits, and is told so.
    waiting = site.get(f"/preauth/{order_id}")
    assert waiting.status_code == 200 and "正在等待支付机构确认预授权" in waiting.text

    done = site.post(callback.path, data=callback.fields)
    assert done.status_code == 200, done.text
    settled = done.json()
    assert settled["status"] == "entered" and settled["repeated"] is False
    intent = db.scalars(select(Intent)).one()
    assert intent.id == settled["entry_id"] and intent.patient_id == patient_id
    assert intent.status == IntentStatus.REGISTERED
    assert intent.payment_reference == callback.fields["trade_no"]
    # the request's context was kept only to make the entry: gone once settled
    assert db.get(PreauthOrder, order_id).context == {}  # type: ignore[union-attr]
    assert intent.payment_account_hash == app_world.platform.protector.keyed_hash(
        PAYER, purpose="payment_account"
    )
    db.commit()

    # The provider retries: answered with what was done, nothing done twice.
    again = site.post(callback.path, data=callback.fields)
    assert again.status_code == 200
    assert again.json() == {**settled, "repeated": True}
    assert len(db.scalars(select(Intent)).all()) == 1
    events = [e.kind for e in payments_repo.preauth_events_of(db, order_id=order_id)]
    assert events == ["opened", "entered"]
    db.commit()

    back = site.get(f"/preauth/{order_id}", follow_redirects=False)
    assert back.status_code == 303
    assert back.headers["location"] == f"/entries/draw/{intent.id}?done=draw_entered"
    shown = site.get(back.headers["location"])
    assert "已登记摇号" in shown.text


def test_a_callback_not_signed_by_the_provider_or_with_another_amount_changes_nothing(
    site: TestClient, app_world: World, gateway: Gateway, sms_log: SmsLog, db: Session
) -> None:
    _session, _form, order_id = draw_entry_at_gateway(site, app_world, gateway, sms_log)
    callback = answer(gateway, "authorised")

    forged = site.post(callback.path, data={**callback.fields, "payer": "someone-else"})
    assert forged.status_code == 400 and forged.json()["error"] == "payment_signature_invalid"
    assert forged.json()["detail_zh"]
    cheaper = dict(callback.fields, amount="0.01")
    cheaper["signature"] = (
        Gateway(url="", site=None, secret="wrong-secret")
        .callback({"order_id": order_id, "amount": "0.01"}, "authorised")
        .fields["signature"]
    )
    assert site.post(callback.path, data=cheaper).status_code == 400
    # A payment callback is not a pre-authorisation's, and the reverse.
    assert site.post("/pay/callback/http", data=callback.fields).status_code in (400, 404)
    order = db.get(PreauthOrder, order_id)
    assert order is not None and order.status == PreauthStatus.PENDING
    assert db.scalar(select(Intent.id)) is None
    db.commit()


def test_a_patient_who_cancels_at_the_provider_is_not_entered(
    site: TestClient, app_world: World, gateway: Gateway, sms_log: SmsLog, db: Session
) -> None:
    session, _form, order_id = draw_entry_at_gateway(site, app_world, gateway, sms_log)
    callback = answer(gateway, "cancelled")
    done = site.post(callback.path, data=callback.fields)
    assert done.status_code == 200 and done.json()["status"] == "cancelled"
    assert db.scalar(select(Intent.id)) is None
    db.commit()
    shown = site.get(f"/preauth/{order_id}")
    assert "您已取消预授权，本次没有登记" in shown.text
    assert f'href="/draw/session/{session.id}"' in shown.text


def test_an_authorisation_that_comes_after_the_window_closed_is_released_and_said_so(
    site: TestClient, app_world: World, gateway: Gateway, sms_log: SmsLog, db: Session
) -> None:
    session, form, order_id = draw_entry_at_gateway(site, app_world, gateway, sms_log)
    callback = answer(gateway, "authorised")
    app_world.platform.clock.set(session.release_at + MIN)  # the draw is due: window shut
    done = site.post(callback.path, data=callback.fields)
    assert done.status_code == 200
    assert done.json()["status"] == "released" and done.json()["refusal"]
    assert db.scalar(select(Intent.id)) is None
    db.commit()
    shown = site.get(f"/preauth/{order_id}")
    assert "原路退回，不会扣款" in shown.text and 'role="alert"' in shown.text
    # And the closed window is not sent to the provider at all.
    refused = site.post("/draw/enter", data=form, follow_redirects=False)
    assert refused.status_code == 409
    assert len(gateway.seen) == 1


def test_the_providers_callback_puts_the_patient_on_a_full_sessions_waitlist(
    site: TestClient, app_world: World, gateway: Gateway, sms_log: SmsLog, db: Session
) -> None:
    session = app_world.session(day=RELEASED_DAY, capacity=1)
    # Another family holds the one slot: the session is full.
    account, patient = app_world.patient()
    bookings.hold(
        db,
        account_id=account.id,
        patient_id=patient.id,
        slot_id=app_world.slots(session)[0].id,
        now=app_world.now(),
        ctx=app_world.ctx(account),
        policy=app_world.policy,
        rng=app_world.platform.rng,
    )
    db.commit()
    csrf, patient_id = signed_in_with_patient(site, sms_log)
    page = site.get(f"/waitlist/session/{session.id}")
    assert "去预授权并加入候补" in page.text
    form = {"session_id": session.id, "patient_id": patient_id, "csrf_token": csrf}
    order_id = to_gateway(site, gateway, form, "/waitlist/join")
    callback = answer(gateway, "authorised")
    done = site.post(callback.path, data=callback.fields)
    assert done.status_code == 200 and done.json()["status"] == "entered", done.text
    entry = db.scalars(select(WaitlistEntry)).one()
    assert entry.status == WaitStatus.WAITING and entry.patient_id == patient_id
    db.commit()
    back = site.get(f"/preauth/{order_id}", follow_redirects=False)
    assert back.headers["location"] == f"/entries?done=waitlist_joined#w-{entry.id}"


def test_the_hold_page_lets_its_pay_form_lead_to_the_configured_provider_only(
    site: TestClient, app_world: World, gateway: Gateway, sms_log: SmsLog
) -> None:
    session = app_world.session(day=RELEASED_DAY)
    csrf, patient_id = signed_in_with_patient(site, sms_log)
    held = site.post(
        "/book/hold",
        data={"session_id": session.id, "patient_id": patient_id, "csrf_token": csrf},
        follow_redirects=False,
    )
    page = site.get(held.headers["location"])
    policy = page.headers["content-security-policy"]
    assert f"form-action 'self' {gateway.url.removesuffix('/cashier')};" in policy
    assert "script-src 'self';" in policy  # nothing else loosened
    paying = site.post(
        held.headers["location"] + "/pay", data={"csrf_token": csrf}, follow_redirects=False
    )
    with BROWSER.open(paying.headers["location"], timeout=10) as cashier:
        assert "确认付款" in cashier.read().decode()
    assert gateway.seen[-1]["return_url"] == held.headers["location"]
    # Pages without such a form keep the site's own policy.
    other = site.get("/bookings").headers["content-security-policy"]
    assert "form-action 'self';" in other


def test_an_order_never_called_back_loses_its_request_context_after_the_retention(
    site: TestClient, app_world: World, gateway: Gateway, sms_log: SmsLog, db: Session
) -> None:
    _session, _form, order_id = draw_entry_at_gateway(site, app_world, gateway, sms_log)
    opened = db.get(PreauthOrder, order_id)
    assert opened is not None and opened.context  # kept to make the entry on the callback
    created = opened.created_at
    db.commit()

    assert preauth_orders.forget_stale_context(db, before=created) == 0  # not older yet
    assert preauth_orders.forget_stale_context(db, before=created + dt.timedelta(seconds=1)) == 1
    db.commit()
    db.expire_all()
    stale = db.get(PreauthOrder, order_id)
    assert stale is not None and stale.context == {} and stale.status == PreauthStatus.PENDING
