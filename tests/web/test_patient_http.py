"""The patient pages over HTTP (no browser): sign-in by code, family, my bookings, help,
refusals in plain words; on both backends."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from factories.demand import create_account, create_patient, phone_number, resident_id
from factories.patient_pages import SmsLog, csrf_of, sign_in
from factories.world import World
from fairslot.audit.models import RequestRecord
from fairslot.blacklist import service as blacklist
from fairslot.blacklist.models import Scope
from fairslot.bookings import service as bookings
from fairslot.bookings.models import Booking
from fairslot.bookings.states import BookingStatus
from fairslot.bootstrap import Platform
from fairslot.clock import ManualClock
from fairslot.followup.models import CallTask
from fairslot.followup.states import CallReason
from fairslot.patients import service as patients
from fairslot.signin import repository as signin_repo
from fairslot.signin import service as signin
from fairslot.staff.audit import cli_actor

# The hospital's own app is the pages' channel; the site is the console plugin's.
pytestmark = pytest.mark.usefixtures("app_world")


def _account_id(db: Session, platform: Platform, world: World, phone: str) -> int:
    key = signin.phone_key(signin.phone_of(phone), protector=platform.protector)
    account = signin_repo.account_for_phone(db, phone_hash=key, channel_id=world.channel.id)
    assert account is not None
    db.commit()
    return account.id


def _bind(site: TestClient, csrf: str, *, name: str = "李秀英", relation: str = "self") -> None:
    answer = site.post(
        "/family",
        data={
            "name": name,
            "id_number": resident_id(),
            "phone": phone_number(),
            "relation": relation,
            "csrf_token": csrf,
        },
    )
    assert answer.status_code == 200, answer.text


def _booking(world: World, account_id: int, patient_id: int, *, pay: bool = True) -> Booking:
    session = world.session()
    slot = world.slots(session)[0]
    ctx = world.ctx(account_id=account_id)
    booking = bookings.hold(
        world.db,
        account_id=account_id,
        patient_id=patient_id,
        slot_id=slot.id,
        now=world.now(),
        ctx=ctx,
        policy=world.policy,
        rng=world.platform.rng,
    )
    if pay:
        booking = bookings.confirm(
            world.db,
            booking_id=booking.id,
            account_id=account_id,
            payment_account="6222020000001234",
            payment_reference="pay-1",
            now=world.now(),
            ctx=ctx,
            protector=world.platform.protector,
        )
    world.db.commit()
    return booking


def test_a_patient_signs_in_with_the_code_from_the_text_message(
    site: TestClient, sms_log: SmsLog
) -> None:
    phone = phone_number()
    sign_in(site, sms_log, phone)
    cookie = next(c for c in site.cookies.jar if c.name == "fairslot_patient")
    assert cookie.has_nonstandard_attr("HttpOnly")
    home = site.get("/")
    assert phone[-4:] in home.text and "退出登录" in home.text
    assert "预约挂号" in home.text and "我的预约" in home.text and "就诊人" in home.text


def test_a_wrong_code_says_how_many_tries_are_left(site: TestClient, sms_log: SmsLog) -> None:
    phone = phone_number()
    form = site.get("/login")
    sent = site.post("/login/code", data={"phone": phone, "csrf_token": csrf_of(form.text)})
    right = sms_log.code_for(phone)
    wrong = f"{(int(right) + 1) % 10**6:06d}"
    answer = site.post(
        "/login", data={"phone": phone, "code": wrong, "csrf_token": csrf_of(sent.text)}
    )
    assert answer.status_code == 400
    assert "验证码不对，还可以再试 4 次" in answer.text
    assert "fairslot_patient" not in site.cookies


def test_a_second_code_within_a_minute_is_refused_in_plain_words(
    site: TestClient, sms_log: SmsLog
) -> None:
    phone = phone_number()
    form = site.get("/login")
    first = site.post("/login/code", data={"phone": phone, "csrf_token": csrf_of(form.text)})
    assert first.status_code == 200
    # "send a new code" on the code page, at once
    again = site.post("/login/code", data={"phone": phone, "csrf_token": csrf_of(first.text)})
    assert again.status_code == 429 and "请等一分钟再试" in again.text


def test_the_sign_in_form_without_its_token_is_refused(site: TestClient) -> None:
    site.get("/login")
    answer = site.post("/login/code", data={"phone": phone_number(), "csrf_token": "forged"})
    assert answer.status_code == 403 and "页面已过期" in answer.text


def test_pages_of_an_account_ask_to_sign_in_first(site: TestClient) -> None:
    for path in ("/family", "/bookings", "/help"):
        answer = site.get(path, follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"] == f"/login?next={path}"


def test_a_patient_binds_a_family_member_sees_the_id_masked_and_unbinds(
    site: TestClient, sms_log: SmsLog, db: Session
) -> None:
    csrf = sign_in(site, sms_log, phone_number())
    _bind(site, csrf, name="李秀英")
    _bind(site, csrf, name="李建国", relation="parent")
    page = site.get("/family")
    assert "李*英" in page.text and "李秀英" not in page.text and "父母" in page.text
    assert page.text.count("*" * 8) >= 2  # ID numbers masked
    patient_id = int(page.text.split('action="/family/')[2].split("/")[0])
    gone = site.post(f"/family/{patient_id}/unbind", data={"csrf_token": csrf})
    assert gone.status_code == 200 and "已解绑就诊人" in gone.text


def test_the_fifth_patient_is_refused_with_the_limit_explained(
    site: TestClient, sms_log: SmsLog
) -> None:
    csrf = sign_in(site, sms_log, phone_number())
    for n, relation in enumerate(("self", "parent", "parent", "child")):
        _bind(site, csrf, name=f"王{'一二三四'[n]}", relation=relation)
    page = site.get("/family")
    assert "每个账号最多添加 4 位就诊人" in page.text  # the form is replaced by the rule
    refused = site.post(
        "/family",
        data={
            "name": "王五",
            "id_number": resident_id(),
            "phone": phone_number(),
            "relation": "child",
            "csrf_token": csrf,
        },
    )
    assert refused.status_code == 409
    assert "最多添加 4 位就诊人" in refused.text and "先解绑" in refused.text


def test_an_invalid_id_number_is_explained(site: TestClient, sms_log: SmsLog) -> None:
    csrf = sign_in(site, sms_log, phone_number())
    answer = site.post(
        "/family",
        data={
            "name": "张三",
            "id_number": "123",
            "phone": phone_number(),
            "relation": "self",
            "csrf_token": csrf,
        },
    )
    assert answer.status_code == 422 and "身份证号不正确" in answer.text


def test_the_relation_is_the_patients_choice_and_a_missing_one_is_explained(
    site: TestClient, sms_log: SmsLog
) -> None:
    csrf = sign_in(site, sms_log, phone_number())
    form = site.get("/family").text
    select = form[form.index('<select name="relation"') : form.index("</select>")]
    assert "required" in select and select.count(" selected") == 1
    assert '<option value="" selected disabled>请选择</option>' in select  # nothing assumed
    person = {"name": "张三", "id_number": resident_id(), "phone": phone_number()}
    for relation in ({}, {"relation": ""}, {"relation": "boss"}):
        answer = site.post("/family", data={**person, **relation, "csrf_token": csrf})
        assert answer.status_code == 422, answer.text
        assert "请选择就诊人与您的关系" in answer.text
    assert "张*" not in site.get("/family").text  # nobody was bound
    _bind(site, csrf, name="张三", relation="parent")
    assert "父母" in site.get("/family").text


def test_an_action_without_the_session_token_is_refused(site: TestClient, sms_log: SmsLog) -> None:
    sign_in(site, sms_log, phone_number())
    answer = site.post("/family", data={"name": "张三", "id_number": resident_id()})
    assert answer.status_code == 403 and "页面已过期" in answer.text


def test_my_bookings_shows_a_booking_and_cancels_it_with_the_rule_explained(
    site: TestClient, sms_log: SmsLog, db: Session, platform: Platform, app_world: World
) -> None:
    phone = phone_number()
    csrf = sign_in(site, sms_log, phone)
    _bind(site, csrf)
    account_id = _account_id(db, platform, app_world, phone)
    patient_id = patients.list_patients(
        db, account_id=account_id, now=platform.clock.now(), protector=platform.protector
    )[0].patient_id
    db.commit()
    booking = _booking(app_world, account_id, patient_id)
    page = site.get("/bookings")
    assert app_world.department.name in page.text and "已预约" in page.text
    assert "随机时间重新放出" in page.text and "前可在线取消" in page.text
    assert "确认取消" in page.text  # a second tap confirms
    done = site.post(f"/bookings/{booking.id}/cancel", data={"csrf_token": csrf})
    assert done.status_code == 200 and "已取消预约" in done.text
    db.expire_all()
    assert db.get(Booking, booking.id).status == BookingStatus.CANCELLED  # type: ignore[union-attr]
    records = db.scalars(select(RequestRecord.action).where(RequestRecord.account_id == account_id))
    assert "cancel" in set(records)


def test_a_blocked_phone_is_told_whom_to_contact_and_not_why(
    site: TestClient, db: Session, platform: Platform
) -> None:
    phone = phone_number()
    blacklist.block(
        db,
        scope=Scope.PHONE,
        value=phone,
        reason="reported by the security office",
        actor=cli_actor("it"),
        now=platform.clock.now(),
        protector=platform.protector,
    )
    db.commit()
    form = site.get("/login")
    answer = site.post("/login/code", data={"phone": phone, "csrf_token": csrf_of(form.text)})
    assert answer.status_code == 403
    assert "挂号窗口" in answer.text and "客服电话" in answer.text
    for telling in ("黑名单", "blacklist", "security office", "封禁"):
        assert telling not in answer.text


def test_a_call_for_help_lands_in_the_call_desk(
    site: TestClient, sms_log: SmsLog, db: Session
) -> None:
    csrf = sign_in(site, sms_log, phone_number())
    _bind(site, csrf)
    page = site.get("/help")
    patient_id = int(page.text.split('name="patient_id">')[1].split('value="')[1].split('"')[0])
    sent = site.post(
        "/help",
        data={"patient_id": patient_id, "question": "付款后没有显示预约", "csrf_token": csrf},
    )
    assert sent.status_code == 200 and "客服会在工作时间给您回电" in sent.text
    task = db.scalars(select(CallTask).where(CallTask.reason == CallReason.HELP)).one()
    assert task.patient_id == patient_id and task.question == "付款后没有显示预约"
    again = site.post("/help", data={"patient_id": patient_id, "csrf_token": csrf})
    assert again.status_code == 409 and "您已经请求过回电" in again.text


def test_the_elder_mode_and_the_english_switch_are_kept_in_cookies(site: TestClient) -> None:
    site.get("/elder?on=1&next=/")
    site.get("/lang?to=en&next=/")
    home = site.get("/")
    assert 'class="patient elder"' in home.text and "My bookings" in home.text
    assert 'lang="en"' in home.text
    site.get("/elder?on=0&next=/")
    assert 'class="patient"' in site.get("/").text


def test_a_sign_in_sends_nowhere_but_this_site(site: TestClient) -> None:
    answer = site.get("/lang?to=en&next=//evil.example/", follow_redirects=False)
    assert answer.headers["location"] == "/"


def test_a_booking_inside_the_cut_off_cannot_be_cancelled_and_says_so(
    site: TestClient,
    sms_log: SmsLog,
    db: Session,
    platform: Platform,
    app_world: World,
    clock: ManualClock,
) -> None:
    phone = phone_number()
    account = create_account(db, platform, phone=phone, channel_id=app_world.channel.id)
    patient = create_patient(db, platform, account=account)
    db.commit()
    booking = _booking(app_world, account.id, patient.id)
    starts = app_world.sessions[-1].starts_at
    clock.set(starts - timedelta(minutes=platform.settings.cancel_cutoff_minutes - 30))
    csrf = sign_in(site, sms_log, phone)  # the account the phone already has
    page = site.get("/bookings")
    assert "就诊前 120 分钟内不能在线取消" in page.text and "确认取消" not in page.text
    refused = site.post(f"/bookings/{booking.id}/cancel", data={"csrf_token": csrf})
    assert refused.status_code >= 400 and "离就诊不到 120 分钟" in refused.text


def test_an_unknown_address_is_a_page_for_a_browser_and_json_for_the_api(
    site: TestClient,
) -> None:
    page = site.get("/nowhere", headers={"accept": "text/html"})
    assert page.status_code == 404 and "找不到这个页面" in page.text
    api = site.get("/v1/nowhere", headers={"accept": "text/html"})
    assert api.status_code == 404 and api.json()["error"] == "not_found"
