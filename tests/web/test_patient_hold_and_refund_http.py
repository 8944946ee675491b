"""The hold page and money over HTTP (no browser): the countdown in words ("14 分 59 秒",
"11 小时 39 分"), giving a hold up through the channel API's cancellation with a way back
to the search; a payment that arrives after the hold ended is refunded and every page
says where to and how long; a cancelled paid booking says its fee goes back. On both
backends."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from urllib.parse import parse_qsl, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from factories.demand import phone_number, resident_id
from factories.patient_pages import SmsLog, sign_in
from factories.world import RELEASED_DAY, UNRELEASED_DAY, World
from fairslot.bookings.models import Booking
from fairslot.bookings.states import BookingStatus
from fairslot.clock import ManualClock
from fairslot.payments.models import PaymentOrder
from fairslot.payments.states import OrderStatus
from fairslot.schedules.models import ClinicSession, Slot

# The hospital's own app is the pages' channel; the site is the console plugin's.
pytestmark = pytest.mark.usefixtures("app_world")

HELD = re.compile(r"^/book/held/([0-9a-f-]+)$")
FORM = re.compile(r'<form method="post" action="(/pay/sandbox/[^"]+)">(.*?)</form>', re.S)
HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')


def held_booking(site: TestClient, sms: SmsLog, session: ClinicSession) -> tuple[str, str]:
    """Sign in, bind oneself, hold a slot of the session: the CSRF token and the booking."""
    csrf = sign_in(site, sms, phone_number())
    bound = site.post(
        "/family",
        data={
            "name": "李秀英",
            "id_number": resident_id(),
            "phone": phone_number(),
            "relation": "self",
            "csrf_token": csrf,
        },
    )
    patient = re.search(r'action="/family/(\d+)/unbind"', bound.text)
    assert patient, bound.text
    held = site.post(
        "/book/hold",
        data={"session_id": session.id, "patient_id": patient.group(1), "csrf_token": csrf},
        follow_redirects=False,
    )
    found = HELD.match(held.headers["location"])
    assert found, held.text
    return csrf, found.group(1)


def cashier_forms(site: TestClient, csrf: str, booking_id: str) -> dict[str, dict[str, str]]:
    """Go to pay: the sandbox cashier's two buttons' forms, by outcome."""
    paying = site.post(
        f"/book/held/{booking_id}/pay", data={"csrf_token": csrf}, follow_redirects=False
    )
    cashier = site.get(paying.headers["location"])
    assert cashier.status_code == 200
    found = {}
    for action, body in FORM.findall(cashier.text):
        fields = dict(HIDDEN.findall(body))
        found[fields["outcome"]] = {**fields, "_action": action}
    return found


def test_the_countdown_reads_in_minutes_and_seconds_or_hours_and_minutes(
    site: TestClient, app_world: World, sms_log: SmsLog
) -> None:
    session = app_world.session(day=RELEASED_DAY)
    _, booking_id = held_booking(site, sms_log, session)
    page = site.get(f"/book/held/{booking_id}").text
    clock = re.search(
        r'<strong class="clock"[^>]*data-units="天\|小时\|分\|秒">([^<]+)</strong>', page
    )
    assert clock, page
    assert re.fullmatch(r"\d+ 分 \d+ 秒", clock.group(1)), clock.group(1)
    assert ":" not in clock.group(1)
    # A release hours away: hours and minutes; in English the same shape.
    app_world.session(day=UNRELEASED_DAY)
    grid = site.get(
        f"/book?hospital={app_world.hospital.id}&department={app_world.department.id}"
    ).text
    assert re.search(r'class="clock"[^>]*>\d+ 小时 \d+ 分</strong>', grid), grid
    site.get("/lang?to=en&next=/")
    english = site.get(f"/book/held/{booking_id}").text
    assert re.search(r'class="clock"[^>]*>\d+ min \d+ s</strong>', english)


def test_a_patient_gives_a_hold_up_and_goes_back_to_the_search(
    site: TestClient, app_world: World, sms_log: SmsLog, db: Session
) -> None:
    session = app_world.session(day=RELEASED_DAY)
    csrf, booking_id = held_booking(site, sms_log, session)
    cashier_forms(site, csrf, booking_id)  # she went to pay, then came back
    page = site.get(f"/book/held/{booking_id}").text
    search = f"/book?hospital={app_world.hospital.id}&amp;department={app_world.department.id}"
    assert f'href="{search}"' in page and "返回重新选择" in page
    assert "放弃此号" in page and f'action="/book/held/{booking_id}/release"' in page

    gone = site.post(
        f"/book/held/{booking_id}/release", data={"csrf_token": csrf}, follow_redirects=False
    )
    assert gone.status_code == 303
    assert gone.headers["location"] == html.unescape(search) + "&done=hold_released"
    booking = db.get(Booking, booking_id)
    assert booking is not None and booking.status == BookingStatus.CANCELLED
    slot = db.get(Slot, booking.slot_id)
    assert slot is not None and slot.reopen_at is not None  # cools, as any returned slot
    order = db.scalars(select(PaymentOrder).where(PaymentOrder.booking_id == booking_id)).one()
    assert order.status == OrderStatus.CANCELLED  # nothing can be paid into it now
    db.commit()
    assert "已放弃这个号，未扣费" in site.get(gone.headers["location"]).text
    after = site.get(f"/book/held/{booking_id}").text
    assert "您已放弃这个号" in after and "去支付" not in after
    # Twice, or without the session's token: refused, nothing changes.
    again = site.post(f"/book/held/{booking_id}/release", data={"csrf_token": csrf})
    assert again.status_code == 409
    assert site.post(f"/book/held/{booking_id}/release", data={}).status_code == 403


def test_a_paid_booking_cannot_be_given_up_from_the_hold_page(
    site: TestClient, app_world: World, sms_log: SmsLog, db: Session
) -> None:
    session = app_world.session(day=RELEASED_DAY)
    csrf, booking_id = held_booking(site, sms_log, session)
    pay = cashier_forms(site, csrf, booking_id)["paid"]
    site.post(pay.pop("_action"), data=pay)
    refused = site.post(f"/book/held/{booking_id}/release", data={"csrf_token": csrf})
    assert refused.status_code == 409
    booking = db.get(Booking, booking_id)
    assert booking is not None and booking.status == BookingStatus.BOOKED
    db.commit()


def test_a_payment_after_the_hold_ended_is_refunded_and_every_page_says_where(
    site: TestClient, app_world: World, sms_log: SmsLog, clock: ManualClock, db: Session
) -> None:
    session = app_world.session(day=RELEASED_DAY)
    csrf, booking_id = held_booking(site, sms_log, session)
    pay = cashier_forms(site, csrf, booking_id)["paid"]
    clock.advance(timedelta(minutes=30))  # she paid too late
    late = site.post(pay.pop("_action"), data=pay)
    assert late.status_code == 409
    assert "退款" in late.text or "退回" in late.text
    assert "沙箱收银台没有真实扣款" in late.text  # the sandbox says no real money moved
    order = db.scalars(select(PaymentOrder).where(PaymentOrder.booking_id == booking_id)).one()
    assert order.status == OrderStatus.REFUND_DUE
    db.commit()

    held = site.get(f"/book/held/{booking_id}").text
    assert "退款说明" in held and f"您支付的 {order.amount} 元在保留时间结束后才到账" in held
    mine = site.get("/bookings").text
    assert f"您支付的 {order.amount} 元" in mine

    # With a configured provider the page says who returns it, to where, and how long.
    order.provider = "http"
    db.commit()
    held = site.get(f"/book/held/{booking_id}").text
    assert "由支付机构原路退回到您付款时使用的账户" in held and "1–7 个工作日" in held


def test_cancelling_a_paid_booking_says_the_fee_goes_back_and_to_where(
    site: TestClient, app_world: World, sms_log: SmsLog, db: Session
) -> None:
    session = app_world.session(day=RELEASED_DAY)
    csrf, booking_id = held_booking(site, sms_log, session)
    pay = cashier_forms(site, csrf, booking_id)["paid"]
    back = site.post(pay.pop("_action"), data=pay, follow_redirects=False)
    assert back.status_code == 303
    assert dict(parse_qsl(urlsplit(back.headers["location"]).query))["payment"] == "paid"

    mine = site.get("/bookings").text
    assert "取消后，挂号费由医院原路退回到您付款时使用的账户" in mine
    done = site.post(f"/bookings/{booking_id}/cancel", data={"csrf_token": csrf})
    assert done.status_code == 200
    assert "已取消预约。挂号费由医院原路退回到您付款时使用的账户" in done.text
    assert "已取消，挂号费由医院原路退回到付款账户" in done.text  # in the past list too
    booking = db.get(Booking, booking_id)
    assert booking is not None and booking.status == BookingStatus.CANCELLED
    db.commit()
