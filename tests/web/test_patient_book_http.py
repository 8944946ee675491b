"""Find and book over HTTP (no browser): the grid with free counts and opening times,
hold with its record, the countdown, payment's redirect, a full session answered with
alternatives, refusals; on both backends."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from factories.demand import create_account, create_patient, phone_number, resident_id
from factories.patient_pages import SmsLog, sign_in
from factories.world import RELEASED_DAY, UNRELEASED_DAY, World
from fairslot.audit.models import RequestRecord
from fairslot.bookings import service as bookings
from fairslot.bookings.models import Booking
from fairslot.bookings.states import BookingStatus
from fairslot.clock import ManualClock

# The hospital's own app is the pages' channel; the site is the console plugin's.
pytestmark = pytest.mark.usefixtures("app_world")

HELD = re.compile(r"^/book/held/([0-9a-f-]+)$")


def _signed_in_with_patient(site: TestClient, sms: SmsLog) -> str:
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
    assert bound.status_code == 200, bound.text
    return csrf


def _patient_id(html: str) -> int:
    found = re.search(r'name="patient_id" value="(\d+)"', html)
    assert found, "no patient to choose"
    return int(found.group(1))


def _hold(site: TestClient, csrf: str, session_id: int, patient_id: int) -> httpx.Response:
    return site.post(
        "/book/hold",
        data={"session_id": session_id, "patient_id": patient_id, "csrf_token": csrf},
        follow_redirects=False,
    )


def test_the_grid_shows_free_counts_the_mode_and_when_a_session_opens(
    site: TestClient, app_world: World, sms_log: SmsLog
) -> None:
    app_world.session(day=RELEASED_DAY, capacity=5)
    app_world.session(day=UNRELEASED_DAY)
    sign_in(site, sms_log, phone_number())
    hospitals = site.get("/book")
    assert app_world.hospital.name in hospitals.text
    departments = site.get(f"/book?hospital={app_world.hospital.id}")
    assert app_world.department.name in departments.text and "先到先得" in departments.text
    grid = site.get(f"/book?hospital={app_world.hospital.id}&department={app_world.department.id}")
    assert grid.status_code == 200
    assert "余 5 / 共 5 个号" in grid.text
    assert "11月23日 00:30 开放" in grid.text  # 2026-11-30 opens at 00:30 seven days before
    assert "待放号" in grid.text
    assert grid.text.count("先到先得") >= 3  # the department, and each session's cell
    site.get("/lang?to=en&next=/book")
    english = site.get(
        f"/book?hospital={app_world.hospital.id}&department={app_world.department.id}"
    )
    assert "5 of 5 free" in english.text and "Opens 00:30 on 23/11" in english.text
    assert "book." not in english.text  # no key left untranslated


def test_switching_language_or_elder_mode_comes_back_to_the_same_list(
    site: TestClient, app_world: World, sms_log: SmsLog
) -> None:
    sign_in(site, sms_log, phone_number())
    grid = f"/book?hospital={app_world.hospital.id}&department={app_world.department.id}"
    page = site.get(grid + "&done=held")
    switch = re.search(r'href="(/elder\?on=1&amp;next=[^"]+)"', page.text)
    assert switch is not None
    answer = site.get(html.unescape(switch.group(1)), follow_redirects=False)
    assert answer.headers["location"] == grid  # the query kept, the one-off message dropped


def test_a_patient_holds_sees_the_countdown_and_is_sent_to_the_cashier(
    site: TestClient, app_world: World, sms_log: SmsLog, db: Session
) -> None:
    session = app_world.session(day=RELEASED_DAY)
    csrf = _signed_in_with_patient(site, sms_log)
    chosen = site.get(
        f"/book/session/{session.id}?department={app_world.department.id}&day={RELEASED_DAY}"
    )
    assert chosen.status_code == 200 and "提交预约" in chosen.text
    held = _hold(site, csrf, session.id, _patient_id(chosen.text))
    assert held.status_code == 303, held.text
    found = HELD.match(held.headers["location"])
    assert found
    booking_id = found.group(1)
    booking = db.get(Booking, booking_id)
    assert booking is not None and booking.status == BookingStatus.HELD
    record = db.scalars(
        select(RequestRecord).where(
            RequestRecord.action == "hold", RequestRecord.booking_id == booking_id
        )
    ).one()
    assert record.outcome == "ok"
    db.commit()
    page = site.get(f"/book/held/{booking_id}")
    assert (
        'role="timer"' in page.text
        and "去支付" in page.text
        and "/static/js/countdown.js" in page.text
    )
    paying = site.post(
        f"/book/held/{booking_id}/pay", data={"csrf_token": csrf}, follow_redirects=False
    )
    assert paying.status_code == 303, paying.text
    assert paying.headers["location"].startswith("/pay/sandbox/")
    cashier = site.get(paying.headers["location"])
    assert cashier.status_code == 200 and "确认支付" in cashier.text


def test_a_lapsed_hold_says_so_and_offers_no_payment(
    site: TestClient, app_world: World, sms_log: SmsLog, clock: ManualClock
) -> None:
    session = app_world.session(day=RELEASED_DAY)
    csrf = _signed_in_with_patient(site, sms_log)
    chosen = site.get(
        f"/book/session/{session.id}?department={app_world.department.id}&day={RELEASED_DAY}"
    )
    held = _hold(site, csrf, session.id, _patient_id(chosen.text))
    location = held.headers["location"]
    clock.advance(timedelta(minutes=30))
    page = site.get(location)
    assert "保留时间已过" in page.text and "去支付" not in page.text


def test_a_full_session_is_refused_with_alternatives_one_tap_from_a_hold(
    site: TestClient, app_world: World, sms_log: SmsLog, db: Session
) -> None:
    full = app_world.session(day=RELEASED_DAY, capacity=1)
    other = app_world.session(day=RELEASED_DAY + timedelta(days=1), capacity=3)
    account = create_account(db, app_world.platform, channel_id=app_world.channel.id)
    stranger = create_patient(db, app_world.platform, account=account)
    db.commit()
    bookings.hold(
        db,
        account_id=account.id,
        patient_id=stranger.id,
        slot_id=app_world.slots(full)[0].id,
        now=app_world.now(),
        ctx=app_world.ctx(account),
        policy=app_world.policy,
        rng=app_world.platform.rng,
    )
    db.commit()
    csrf = _signed_in_with_patient(site, sms_log)
    family = site.get("/family")
    patient_id = int(re.findall(r"/family/(\d+)/unbind", family.text)[0])
    refused = _hold(site, csrf, full.id, patient_id)
    assert refused.status_code == 409
    text = refused.text
    assert "这个号已经没有了" in text and "可以看看这些号" in text
    assert f'name="session_id" value="{other.id}"' in text
    refusal = db.scalars(
        select(RequestRecord).where(
            RequestRecord.action == "hold",
            RequestRecord.outcome.in_(["session_full", "slot_taken"]),
        )
    ).all()
    assert len(refusal) == 1
    db.commit()
    again = _hold(site, csrf, other.id, patient_id)  # the one tap
    assert again.status_code == 303 and HELD.match(again.headers["location"])


def test_a_hold_without_the_session_token_is_refused(
    site: TestClient, app_world: World, sms_log: SmsLog
) -> None:
    session = app_world.session(day=RELEASED_DAY)
    sign_in(site, sms_log, phone_number())
    answer = site.post("/book/hold", data={"session_id": session.id, "patient_id": 1})
    assert answer.status_code == 403 and "页面已过期" in answer.text


def test_another_accounts_hold_is_not_shown(
    site: TestClient, app_world: World, sms_log: SmsLog, db: Session
) -> None:
    session = app_world.session(day=RELEASED_DAY)
    account = create_account(db, app_world.platform, channel_id=app_world.channel.id)
    stranger = create_patient(db, app_world.platform, account=account)
    db.commit()
    theirs = bookings.hold(
        db,
        account_id=account.id,
        patient_id=stranger.id,
        slot_id=app_world.slots(session)[0].id,
        now=app_world.now(),
        ctx=app_world.ctx(account),
        policy=app_world.policy,
        rng=app_world.platform.rng,
    )
    db.commit()
    csrf = sign_in(site, sms_log, phone_number())
    assert site.get(f"/book/held/{theirs.id}").status_code in (403, 404)
    paying = site.post(f"/book/held/{theirs.id}/pay", data={"csrf_token": csrf})
    assert paying.status_code in (403, 404)


def test_the_booking_pages_ask_to_sign_in_first(site: TestClient) -> None:
    answer = site.get("/book", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/login?next=/book"
