"""The sandbox cashier over HTTP on the whole site (``web/site.py::create_site``): a patient
is sent to the cashier, presses "pay", and the signed callback confirms the booking once;
a provider's server callback is idempotent; tampering is refused with a stable code."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from urllib.parse import parse_qsl, urlsplit

import pytest
from fastapi.testclient import TestClient

from factories.release_day import book
from factories.world import World
from fairslot.bookings.models import Booking
from fairslot.bookings.states import BookingStatus
from fairslot.bootstrap import Platform
from fairslot.clock import ManualClock
from fairslot.payments import service as payments
from fairslot.web.payments import payment_provider
from fairslot.web.site import create_site

HIDDEN = re.compile(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)">')


@pytest.fixture
def site(platform: Platform) -> Iterator[TestClient]:
    with TestClient(
        create_site(platform), raise_server_exceptions=False, follow_redirects=False
    ) as client:
        yield client


def checkout(world: World) -> tuple[Booking, payments.Checkout]:
    """What the patient pages do when the patient taps "pay" on a hold."""
    booking = book(world, world.session(capacity=2, fee="50.00"), pay=False)
    started = payments.checkout(
        world.db,
        booking_id=booking.id,
        account_id=booking.account_id,
        channel_id=world.channel.id,
        provider=payment_provider(world.platform),
        return_url=f"/bookings/{booking.id}",
        now=world.now(),
    )
    world.db.commit()
    return booking, started


def forms(html: str) -> dict[str, dict[str, str]]:
    """The cashier's two forms, by the outcome each posts."""
    found: dict[str, dict[str, str]] = {}
    for form in html.split("<form")[1:]:
        fields = dict(HIDDEN.findall(form.split("</form>")[0]))
        found[fields["outcome"]] = fields
    return found


def status_of(world: World, booking: Booking) -> BookingStatus:
    world.db.expire_all()
    fresh = world.db.get(Booking, booking.id)
    assert fresh is not None
    world.db.commit()
    return fresh.status


def test_a_patient_pays_at_the_sandbox_cashier_and_returns_booked(
    site: TestClient, world: World
) -> None:
    booking, started = checkout(world)

    page = site.get(started.redirect_url)
    paid = site.post(urlsplit(started.redirect_url).path, data=forms(page.text)["paid"])
    again = site.post(urlsplit(started.redirect_url).path, data=forms(page.text)["paid"])

    assert page.status_code == 200 and "¥50.00" in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert paid.status_code == 303
    assert paid.headers["location"] == (
        f"/bookings/{booking.id}?order={started.order_id}&payment=paid"
    )
    assert again.status_code == 303  # pressing "pay" twice confirms once, same answer
    assert status_of(world, booking) == BookingStatus.BOOKED


def test_cancel_at_the_cashier_leaves_the_hold_and_returns(site: TestClient, world: World) -> None:
    booking, started = checkout(world)
    page = site.get(started.redirect_url)

    cancelled = site.post(urlsplit(started.redirect_url).path, data=forms(page.text)["cancelled"])
    closed_page = site.get(started.redirect_url)

    assert cancelled.headers["location"].endswith("payment=cancelled")
    assert status_of(world, booking) == BookingStatus.HELD
    assert "<form" not in closed_page.text


def test_a_cashier_page_with_a_changed_amount_or_return_address_does_not_open(
    site: TestClient, world: World
) -> None:
    _, started = checkout(world)
    path, query = (
        urlsplit(started.redirect_url).path,
        dict(parse_qsl(urlsplit(started.redirect_url).query)),
    )

    cheaper = site.get(path, params=query | {"amount": "0.01"})
    elsewhere = site.get(path, params=query | {"return_url": "https://evil.example/"})

    assert cheaper.status_code == elsewhere.status_code == 400
    assert "<form" not in cheaper.text


def test_the_providers_callback_confirms_once_and_refuses_a_tampered_amount(
    site: TestClient, world: World
) -> None:
    booking, started = checkout(world)
    fields = forms(site.get(started.redirect_url).text)["paid"]

    tampered = site.post("/pay/callback/sandbox", data=fields | {"amount": "0.01"})
    first = site.post("/pay/callback/sandbox", data=fields)
    repeated = site.post("/pay/callback/sandbox", data=fields)
    other = site.post("/pay/callback/http", data=fields)

    assert tampered.status_code == 400
    assert tampered.json()["error"] == "payment_signature_invalid"
    assert tampered.json()["detail_zh"]
    assert first.json() == {
        "order_id": started.order_id,
        "status": "paid",
        "booking_id": booking.id,
        "booking_status": "booked",
        "repeated": False,
    }
    assert repeated.json()["repeated"] is True
    assert other.status_code == 404
    assert status_of(world, booking) == BookingStatus.BOOKED


def test_a_payment_for_a_lapsed_hold_is_shown_as_refunded_on_the_cashier(
    site: TestClient, world: World, clock: ManualClock
) -> None:
    booking, started = checkout(world)
    page = site.get(started.redirect_url)
    clock.advance(dt.timedelta(minutes=world.policy.hold_minutes + 1))

    late = site.post(urlsplit(started.redirect_url).path, data=forms(page.text)["paid"])
    callback = site.post("/pay/callback/sandbox", data=forms(page.text)["paid"])

    assert late.status_code == 409 and "原路退回" in late.text
    assert callback.json()["error"] == "payment_hold_lapsed"
    assert callback.json()["order_status"] == "refund_due"
    assert status_of(world, booking) != BookingStatus.BOOKED
