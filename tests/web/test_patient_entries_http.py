"""Draws, waitlists (候补) and messages on the patient pages over HTTP (no browser): enter a
draw in its window and see the verified result after it; join a full session's waitlist
and be booked when a slot returns; leave and withdraw; the unread count; CSRF on every
form; refusals as plain sentences with what to do next. On both backends."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from factories.batches import run_worker
from factories.demand import phone_number
from factories.patient_pages import SmsLog, sign_in, signed_in_with_patient
from factories.supply import create_doctor
from factories.world import RELEASED_DAY, UNRELEASED_DAY, World
from fairslot.allocation import modes
from fairslot.allocation.models import Intent
from fairslot.allocation.states import AllocationMode, IntentStatus
from fairslot.allocation.worker import run_due_draws
from fairslot.bookings import service as bookings
from fairslot.bookings.models import Booking
from fairslot.bookings.states import BookingStatus
from fairslot.bootstrap import Platform
from fairslot.channels.models import ChannelKind
from fairslot.patients.models import Account
from fairslot.schedules.models import ClinicSession, Slot
from fairslot.waitlist import sweeps
from fairslot.waitlist.models import WaitlistEntry, WaitStatus
from fairslot.web.site import create_site

# The hospital's own app is the pages' channel; the site is the console plugin's.
pytestmark = pytest.mark.usefixtures("app_world")

MIN = dt.timedelta(minutes=1)
LOOKING = dt.timedelta(minutes=3)
ENTRY = re.compile(r"^/entries/draw/([0-9a-f-]+)\?done=(\w+)$")


@pytest.fixture
def other(platform: Platform, app_world: World) -> Iterator[TestClient]:
    """A second browser: another family on the same pages."""
    with TestClient(create_site(platform), base_url="http://testserver") as client:
        yield client


def draw_world(world: World) -> ClinicSession:
    """A draw department with one chief's one-slot session not yet released, and the
    clock inside its intent window."""
    world.department = world.department_(allocation_mode=AllocationMode.DRAW)
    world.doctor = create_doctor(world.db, hospital=world.hospital, department=world.department)
    world.db.commit()
    session = world.session(day=UNRELEASED_DAY, capacity=1)
    world.platform.clock.set(session.push_at + MIN)
    return session


def enter(site: TestClient, csrf: str, session: ClinicSession, patient_id: int) -> str:
    answer = site.post(
        "/draw/enter",
        data={"session_id": session.id, "patient_id": patient_id, "csrf_token": csrf},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    found = ENTRY.match(answer.headers["location"])
    assert found, answer.headers["location"]
    return found.group(1)


def run_the_draw(world: World, session: ClinicSession) -> None:
    world.platform.clock.set(session.release_at + MIN)
    run_worker(world)


PERIOD_ZH = {"am": "上午", "pm": "下午", "evening": "晚间"}


def test_a_patient_enters_a_draw_in_its_window_and_sees_the_verified_result(
    site: TestClient, other: TestClient, app_world: World, sms_log: SmsLog, db: Session
) -> None:
    session = draw_world(app_world)
    csrf, patient_id = signed_in_with_patient(site, sms_log)
    grid = site.get(f"/book?hospital={app_world.hospital.id}&department={app_world.department.id}")
    assert "现在可以登记摇号。" in grid.text and f"/draw/session/{session.id}" in grid.text
    form = site.get(f"/draw/session/{session.id}")
    assert form.status_code == 200
    assert "登记截止还有" in form.text and "预授权挂号费" in form.text
    assert "沙箱支付账户 sandbox:" in form.text

    intent_id = enter(site, csrf, session, patient_id)
    again = site.post(
        "/draw/enter",
        data={"session_id": session.id, "patient_id": patient_id, "csrf_token": csrf},
        follow_redirects=False,
    )
    assert again.headers["location"] == f"/entries/draw/{intent_id}?done=draw_already"
    stored = db.get(Intent, intent_id)
    assert stored is not None and stored.status == IntentStatus.REGISTERED
    assert stored.payment_reference.startswith("SANDBOX-PREAUTH-")
    db.commit()
    page = site.get(f"/entries/draw/{intent_id}?done=draw_entered")
    assert "已登记摇号" in page.text and "已登记，等待摇号" in page.text
    assert 'role="timer"' in page.text and "撤回登记" in page.text
    # The visit's time reads as the booking pages do: day, period, then the opening hour.
    starts = session.starts_at.astimezone(ZoneInfo("Asia/Shanghai"))
    assert f"{starts:%Y-%m-%d} {PERIOD_ZH[session.period.value]}，{starts:%H:%M} 开诊" in page.text

    # A second family enters the same one-slot draw: one of the two wins.
    other_csrf, other_patient = signed_in_with_patient(other, sms_log)
    other_intent = enter(other, other_csrf, session, other_patient)
    record = site.get(f"/draws/{stored.draw_id}")
    assert "正在登记：已有 2 人登记" in record.text

    run_the_draw(app_world, session)
    pages = {intent_id: site.get(f"/entries/draw/{intent_id}").text}
    pages[other_intent] = other.get(f"/entries/draw/{other_intent}").text
    db.expire_all()  # the draw moved them with compare-and-set updates
    states = {i: db.get(Intent, i).status for i in pages}  # type: ignore[union-attr]
    db.commit()
    assert sorted(states.values()) == [IntentStatus.LOST, IntentStatus.WON]
    for found, status in states.items():
        if status == IntentStatus.WON:
            assert (
                "中签了！已为您预约成功" in pages[found]
                and "请携带就诊人身份证原件" in pages[found]
            )
        else:
            assert "这次没有中签，预授权已释放" in pages[found]
        assert f"/draws/{stored.draw_id}" in pages[found]

    # The public record, checked by re-running the draw; and its JSON for anyone's check.
    public = TestClient(create_site(app_world.platform)).get(f"/draws/{stored.draw_id}")
    assert public.status_code == 200 and "✓ 已核对" in public.text and "随机种子" in public.text
    mine = site.get(f"/draws/{stored.draw_id}")
    assert "您的登记" in mine.text and intent_id[:8] in mine.text
    body = json.loads(site.get(f"/draws/{stored.draw_id}/record.json").text)
    assert body["verified"] is True and body["seed"] and set(body["assignment"]) == set(pages)

    # The result is a message, counted unread in the header until the page is opened.
    home = site.get("/")
    assert "1 条未读" in home.text
    messages = site.get("/notifications")
    assert ("摇号中签" in messages.text) or ("摇号未中签" in messages.text)
    assert "1 条未读" not in site.get("/").text

    # The same pages in English, every text from the catalogue.
    site.get("/lang?to=en&next=/")
    for path in (f"/entries/draw/{intent_id}", f"/draws/{stored.draw_id}", "/notifications"):
        english = site.get(path).text
        assert "Check" in english or "Messages" in english
        for key in re.findall(r"\b(?:entries|record|notices|draw|waitlist)\.[a-z_]+\b", english):
            assert key == "record.json", (path, key)  # no catalogue key left untranslated


def test_an_entry_is_withdrawn_before_the_draw_and_not_after(
    site: TestClient, app_world: World, sms_log: SmsLog
) -> None:
    session = draw_world(app_world)
    csrf, patient_id = signed_in_with_patient(site, sms_log)
    intent_id = enter(site, csrf, session, patient_id)
    gone = site.post(f"/entries/draw/{intent_id}/withdraw", data={"csrf_token": csrf})
    assert gone.status_code == 200 and "已撤回登记，预授权已释放。" in gone.text
    assert "已撤回" in site.get("/entries").text
    enter(site, csrf, session, patient_id)  # back before the draw: the same chance
    run_the_draw(app_world, session)
    late = site.post(f"/entries/draw/{intent_id}/withdraw", data={"csrf_token": csrf})
    assert late.status_code == 409
    assert "摇号已经进行，不能撤回登记" in late.text and "我的预约" in late.text


def test_entering_outside_the_window_is_refused_with_what_to_do_next(
    site: TestClient, app_world: World, sms_log: SmsLog
) -> None:
    session = draw_world(app_world)
    csrf, patient_id = signed_in_with_patient(site, sms_log)
    app_world.platform.clock.set(session.release_at + MIN)
    page = site.get(f"/draw/session/{session.id}")
    assert "登记已经截止" in page.text and "/draw/enter" not in page.text
    late = site.post(
        "/draw/enter",
        data={"session_id": session.id, "patient_id": patient_id, "csrf_token": csrf},
    )
    assert late.status_code == 409
    assert "这次摇号的登记已经截止" in late.text and "候补" in late.text


def full_session(world: World) -> tuple[ClinicSession, Account, Booking]:
    """A released one-slot session, booked and paid by another family."""
    session = world.session(day=RELEASED_DAY, capacity=1)
    account, patient = world.patient()
    held = bookings.hold(
        world.db,
        account_id=account.id,
        patient_id=patient.id,
        slot_id=world.slots(session)[0].id,
        now=world.now(),
        ctx=world.ctx(account),
        policy=world.policy,
        rng=world.platform.rng,
    )
    booking = bookings.confirm(
        world.db,
        booking_id=held.id,
        account_id=account.id,
        payment_account="6222020000001234",
        payment_reference="pay-other",
        now=world.now(),
        ctx=world.ctx(account),
        protector=world.platform.protector,
    )
    world.db.commit()
    return session, account, booking


def test_a_patient_joins_a_full_sessions_waitlist_and_is_booked_when_a_slot_returns(
    site: TestClient, app_world: World, sms_log: SmsLog, db: Session
) -> None:
    session, canceller, theirs = full_session(app_world)
    csrf, patient_id = signed_in_with_patient(site, sms_log)
    grid = site.get(f"/book?hospital={app_world.hospital.id}&department={app_world.department.id}")
    assert "已约满" in grid.text and f"/waitlist/session/{session.id}" in grid.text
    form = site.get(f"/waitlist/session/{session.id}")
    assert "随机抽中的一位候补患者" in form.text and "不看谁加入得早、谁手快" in form.text
    joined = site.post(
        "/waitlist/join",
        data={"session_id": session.id, "patient_id": patient_id, "csrf_token": csrf},
    )
    assert joined.status_code == 200 and "已加入候补" in joined.text and "候补中" in joined.text
    entry = db.query(WaitlistEntry).filter_by(patient_id=patient_id).one()
    assert entry.status == WaitStatus.WAITING and entry.payment_account_masked
    db.commit()

    # The other family cancels; when the slot's random cooling ends it goes to the waitlist.
    bookings.cancel(
        db,
        booking_id=theirs.id,
        account_id=canceller.id,
        now=app_world.now(),
        ctx=app_world.ctx(canceller),
        channel_kind=ChannelKind.WECHAT,
        policy=app_world.policy,
        rng=app_world.platform.rng,
    )
    db.commit()
    slot = db.get(Slot, theirs.slot_id)
    assert slot is not None and slot.reopen_at is not None
    app_world.platform.clock.set(slot.reopen_at)
    db.commit()
    report = sweeps.sweep(
        db,
        now=app_world.now(),
        policy=app_world.policy,
        rng=app_world.platform.rng,
        protector=app_world.platform.protector,
    )
    db.commit()
    assert report.waitlist_booked == 1

    mine = site.get("/bookings")
    assert app_world.doctor.name in mine.text and "已预约" in mine.text
    assert "候补成功" in site.get("/entries").text
    messages = site.get("/notifications")
    assert "候补成功" in messages.text and "已为您候补预约成功" in messages.text
    booked = db.query(Booking).filter_by(patient_id=patient_id).one()
    assert booked.status == BookingStatus.BOOKED
    db.commit()


def test_a_session_with_free_slots_has_no_waitlist_and_says_to_book_it(
    site: TestClient, app_world: World, sms_log: SmsLog
) -> None:
    session = app_world.session(day=RELEASED_DAY, capacity=3)
    csrf, patient_id = signed_in_with_patient(site, sms_log)
    answer = site.post(
        "/waitlist/join",
        data={"session_id": session.id, "patient_id": patient_id, "csrf_token": csrf},
        headers={"referer": f"http://testserver/waitlist/session/{session.id}"},
    )
    assert answer.status_code == 409
    assert "这个时段还有号，可以直接预约" in answer.text
    assert f'href="/waitlist/session/{session.id}"' in answer.text  # the way back


def test_a_patient_leaves_the_waitlist(
    site: TestClient, app_world: World, sms_log: SmsLog, db: Session
) -> None:
    session, _, _ = full_session(app_world)
    csrf, patient_id = signed_in_with_patient(site, sms_log)
    site.post(
        "/waitlist/join",
        data={"session_id": session.id, "patient_id": patient_id, "csrf_token": csrf},
    )
    entry = db.query(WaitlistEntry).filter_by(patient_id=patient_id).one()
    db.commit()
    left = site.post(f"/entries/waitlist/{entry.id}/leave", data={"csrf_token": csrf})
    assert left.status_code == 200 and "已退出候补，预授权已释放。" in left.text
    assert "已退出" in left.text
    twice = site.post(f"/entries/waitlist/{entry.id}/leave", data={"csrf_token": csrf})
    assert twice.status_code == 200  # leaving twice is answered, not refused


@pytest.mark.parametrize(
    ("path", "fields"),
    [
        ("/draw/enter", {"session_id": "1", "patient_id": "1"}),
        ("/waitlist/join", {"session_id": "1", "patient_id": "1"}),
        ("/entries/draw/0a1b/withdraw", {}),
        ("/entries/waitlist/0a1b/leave", {}),
    ],
)
def test_every_new_form_refuses_a_post_without_the_sessions_csrf_token(
    site: TestClient, sms_log: SmsLog, path: str, fields: dict[str, str]
) -> None:
    sign_in(site, sms_log, phone_number())
    answer = site.post(path, data={**fields, "csrf_token": "forged"})
    assert answer.status_code == 403
    assert "页面已过期" in answer.text


def test_the_new_pages_need_a_sign_in_but_the_draw_record_is_public(
    site: TestClient, app_world: World, sms_log: SmsLog
) -> None:
    for path in ("/entries", "/notifications", "/waitlist/session/1", "/draw/session/1"):
        answer = site.get(path, follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/login")
    session = draw_world(app_world)
    csrf, patient_id = signed_in_with_patient(site, sms_log)
    enter(site, csrf, session, patient_id)
    site.post("/logout", data={"csrf_token": csrf})
    draw_id = app_world.db.query(Intent).one().draw_id
    app_world.db.commit()
    public = site.get(f"/draws/{draw_id}")
    assert public.status_code == 200 and "种子承诺值" in public.text
    missing = site.get("/draws/999999")
    assert missing.status_code == 404 and "找不到这次摇号" in missing.text


def test_a_hold_in_a_release_batchs_window_enters_the_batch_and_the_winner_pays(
    site: TestClient, app_world: World, sms_log: SmsLog, db: Session
) -> None:
    world = app_world
    world.department = world.department_()
    world.doctor = create_doctor(db, hospital=world.hospital, department=world.department)
    modes.override(  # the hospital asks for a release batch
        db,
        department_id=world.department.id,
        hospital_id=world.hospital.id,
        mode=AllocationMode.RELEASE_BATCH,
        actor="hospital:test",
        now=world.now(),
    )
    db.commit()
    session = world.session(day=UNRELEASED_DAY, capacity=2)
    world.platform.clock.set(session.push_at + MIN)
    csrf, patient_id = signed_in_with_patient(site, sms_log)
    grid = site.get(f"/book?hospital={world.hospital.id}&department={world.department.id}")
    assert "分批放号" in grid.text and "11月23日 00:30 开放" in grid.text
    assert 'role="timer"' in grid.text  # the countdown to the opening

    world.platform.clock.set(session.release_at + dt.timedelta(seconds=5))
    # In the window the slots are not on sale yet, but the session is offered, not "full".
    grid = site.get(f"/book?hospital={world.hospital.id}&department={world.department.id}")
    assert "分批放号中" in grid.text and "登记抽签" in grid.text
    session_page = site.get(
        f"/book/session/{session.id}?department={world.department.id}&day={session.session_date}"
    )
    assert session_page.status_code == 200
    assert "已约满" not in session_page.text and "共 2 个号，统一抽签" in session_page.text
    assert 'action="/book/hold"' in session_page.text and "手快没有用" in session_page.text
    answer = site.post(
        "/book/hold",
        data={"session_id": session.id, "patient_id": patient_id, "csrf_token": csrf},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    found = ENTRY.match(answer.headers["location"])
    assert found and found.group(2) == "batch_entered"
    entry = site.get(answer.headers["location"])
    assert "我的放号批次" in entry.text and "机会均等" in entry.text
    assert "撤回登记" not in entry.text and "预授权账户" not in entry.text

    world.platform.clock.set(session.release_at + dt.timedelta(minutes=5))
    run_due_draws(
        db,
        now=world.now(),
        policy=world.policy,
        rng=world.platform.rng,
        protector=world.platform.protector,
        desk=world.platform.screening_desk,
    )
    db.commit()
    won = site.get(f"/entries/draw/{found.group(1)}")
    assert "抽中了！号源已为您保留" in won.text
    held = re.search(r'href="/book/held/([0-9a-f-]+)">去支付', won.text)
    assert held, "no way to pay the held slot"
    booking = db.get(Booking, held.group(1))
    assert booking is not None and booking.status == BookingStatus.HELD
    db.commit()
