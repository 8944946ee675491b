"""The schedules pages over HTTP on SQLite and PostgreSQL: a scheduler uploads a push,
reads its preview (nothing written), applies it (audited), and withdraws a session after
seeing the bookings it hits; other roles, forged posts and tampered previews are refused."""

from __future__ import annotations

import base64
import html
import re
from datetime import date, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from factories.console import ConsoleSession, sign_in
from factories.staff import create_staff
from factories.world import RELEASED_DAY, UNRELEASED_DAY, World
from fairslot.bookings import service as bookings
from fairslot.bookings.models import Booking
from fairslot.bookings.states import BookingStatus
from fairslot.clock import ManualClock
from fairslot.schedules.models import ClinicSession
from fairslot.schedules.states import SessionStatus
from fairslot.staff.models import StaffAction
from fairslot.staff.roles import Role

HEADER = "hospital,session_id,department,doctor,date,period,start,end,fee,capacity"
HIDDEN = re.compile(r'<input type="hidden" name="(\w+)" value="([^"]*)">')


def scheduler(site: TestClient, world: World) -> ConsoleSession:
    create_staff(world.db, username="zhou", roles={Role.SCHEDULER}, now=world.now())
    return sign_in(site, "zhou")


def csv_of(world: World, *rows: str) -> bytes:
    return ("\n".join((HEADER, *rows)) + "\n").encode()


def row(world: World, session_id: str, day: date | str, capacity: int | str = 4) -> str:
    code, dep, doc = world.hospital.code, world.department.code, world.doctor.code
    return f"{code},{session_id},{dep},{doc},{day},am,08:00,12:00,50.00,{capacity}"


def upload(session: ConsoleSession, world: World, body: bytes, name: str = "push.csv") -> str:
    response = session.client.post(
        f"/console/schedules/{world.hospital.code}/preview",
        data={"csrf_token": session.csrf},
        files={"file": (name, body, "text/csv")},
    )
    assert response.status_code in (200, 422), response.text
    return response.text


def apply_form(page_html: str) -> dict[str, str]:
    return {name: html.unescape(value) for name, value in HIDDEN.findall(page_html)}


def sessions_count(world: World) -> int:
    world.db.commit()
    return world.db.scalar(select(func.count()).select_from(ClinicSession)) or 0


def book(world: World, session: ClinicSession, *, pay: bool = True) -> Booking:
    account, patient = world.patient()
    slot = next(s for s in world.slots(session) if s.state.value == "open")
    ctx = world.ctx(account)
    booking = bookings.hold(
        world.db,
        account_id=account.id,
        patient_id=patient.id,
        slot_id=slot.id,
        now=world.now(),
        ctx=ctx,
        policy=world.policy,
        rng=world.platform.rng,
    )
    if pay:
        bookings.confirm(
            world.db,
            booking_id=booking.id,
            account_id=account.id,
            payment_account="6222020000001234",
            payment_reference=f"pay-{booking.id[:8]}",
            now=world.now(),
            ctx=ctx,
            protector=world.platform.protector,
        )
    world.db.commit()
    return booking


def audit_rows(world: World, action: str) -> list[StaffAction]:
    world.db.commit()
    return list(world.db.scalars(select(StaffAction).where(StaffAction.action == action)))


def test_the_hospital_page_lists_the_sessions_of_the_chosen_dates(
    site: TestClient, world: World
) -> None:
    shown = world.session(day=RELEASED_DAY, his_session_id="AM-25")
    world.session(day=RELEASED_DAY + timedelta(days=3), his_session_id="AM-28")
    session = scheduler(site, world)
    picker = session.get("/console/schedules")
    assert picker.status_code == 200
    assert f'href="/console/schedules/{world.hospital.code}"' in picker.text
    day = RELEASED_DAY.isoformat()
    page = session.get(f"/console/schedules/{world.hospital.code}?from={day}&to={day}")
    assert page.status_code == 200
    assert shown.his_session_id in page.text
    assert world.doctor.name in page.text
    assert "AM-28" not in page.text
    assert 'type="file"' in page.text and 'enctype="multipart/form-data"' in page.text


def test_a_csv_with_bad_rows_is_previewed_row_by_row_and_nothing_is_written(
    site: TestClient, world: World
) -> None:
    session = scheduler(site, world)
    before = sessions_count(world)
    body = csv_of(
        world,
        row(world, "OK-1", UNRELEASED_DAY),
        row(world, "BAD-CAP", UNRELEASED_DAY, capacity=999),
        row(world, "BAD-DATE", "2026-02-30"),
    )
    text = upload(session, world, body)
    rows = {
        r.split("</td>")[0].split(">")[-1]: r for r in re.findall(r"<tr>(.*?)</tr>", text, re.S)
    }
    assert "BAD-CAP" in rows["第 3 行"] and "capacity" in rows["第 3 行"]
    assert "must be between 0 and 500" in rows["第 3 行"]
    assert "BAD-DATE" in rows["第 4 行"] and "not a real calendar date" in rows["第 4 行"]
    assert "文件有 2 处错误" in text
    assert 'name="document"' not in text  # nothing to apply
    assert sessions_count(world) == before


def test_a_preview_shows_what_changes_then_the_import_applies_it_and_is_audited(
    site: TestClient, world: World
) -> None:
    existing = world.session(day=UNRELEASED_DAY, capacity=5, his_session_id="KEEP-1")
    session = scheduler(site, world)
    body = csv_of(
        world,
        row(world, "NEW-1", UNRELEASED_DAY, capacity=4),
        row(world, existing.his_session_id, UNRELEASED_DAY, capacity=8),
    )
    before = sessions_count(world)
    text = upload(session, world, body)
    assert "排班推送预览" in text
    assert "新增号源 7 个" in text  # 4 new + 3 more in KEEP-1
    assert "5 → 8" in text
    assert sessions_count(world) == before  # the preview wrote nothing

    form = apply_form(text)
    assert set(form) >= {"csrf_token", "document", "signature", "issued", "kind", "charset"}
    applied = session.post(f"/console/schedules/{world.hospital.code}/import", data=form)
    assert applied.status_code == 303, applied.text
    assert "done=schedule_imported" in applied.headers["location"]
    assert "created=1" in applied.headers["location"]
    assert "updated=1" in applied.headers["location"]
    assert sessions_count(world) == before + 1
    after = session.get(applied.headers["location"])
    assert "排班已导入" in after.text and "新增 1 场" in after.text

    (audited,) = audit_rows(world, "schedule.import")
    assert audited.actor == "zhou"
    assert audited.target_id == world.hospital.code
    assert audited.data["created"] == 1 and audited.data["updated"] == 1
    assert audited.data["file"] == "push.csv" and audited.data["via"] == "console"
    assert len(audited.data["sha256"]) == 64


def test_a_document_changed_after_its_preview_is_refused(site: TestClient, world: World) -> None:
    session = scheduler(site, world)
    form = apply_form(upload(session, world, csv_of(world, row(world, "N-1", UNRELEASED_DAY))))
    forged = csv_of(world, row(world, "N-1", UNRELEASED_DAY, capacity=400))
    form["document"] = base64.b64encode(forged).decode()
    before = sessions_count(world)
    refused = session.post(f"/console/schedules/{world.hospital.code}/import", data=form)
    assert refused.status_code == 422
    assert "预览过的文件没有原样提交回来" in refused.text
    assert sessions_count(world) == before
    assert audit_rows(world, "schedule.import") == []


def test_a_preview_older_than_half_an_hour_is_not_applied(
    site: TestClient, world: World, clock: ManualClock
) -> None:
    session = scheduler(site, world)
    form = apply_form(upload(session, world, csv_of(world, row(world, "N-2", UNRELEASED_DAY))))
    clock.advance(timedelta(minutes=31))
    refused = session.post(f"/console/schedules/{world.hospital.code}/import", data=form)
    assert refused.status_code == 409
    assert "预览已过期" in refused.text


def test_a_document_for_another_hospital_is_named_in_the_preview(
    site: TestClient, world: World
) -> None:
    session = scheduler(site, world)
    body = csv_of(world, row(world, "X-1", UNRELEASED_DAY).replace(world.hospital.code, "ZZ9", 1))
    text = upload(session, world, body)
    assert "这份文件属于医院 ZZ9" in text


def test_withdrawing_shows_the_bookings_it_hits_then_withdraws_with_the_reason(
    site: TestClient, world: World
) -> None:
    target = world.session(day=RELEASED_DAY, capacity=4, his_session_id="ILL-1")
    paid = book(world, target)
    held = book(world, target, pay=False)
    session = scheduler(site, world)
    url = f"/console/schedules/{world.hospital.code}/sessions/{target.his_session_id}/withdraw"
    confirm = session.get(url)
    assert confirm.status_code == 200
    assert '<span class="figure sch-bad-figure">2</span>' in confirm.text
    assert "确认停诊（撤销 2 个预约）" in confirm.text

    done = session.post(url, data={"reason": "医生病假"})
    assert done.status_code == 303
    assert "done=session_withdrawn" in done.headers["location"]
    world.db.commit()
    world.db.refresh(target)
    assert target.status == SessionStatus.WITHDRAWN
    for booking in (paid, held):
        world.db.refresh(booking)
        assert booking.status == BookingStatus.WITHDRAWN
    (audited,) = audit_rows(world, "session.withdraw")
    assert audited.reason == "医生病假"
    assert audited.target_id == f"{world.hospital.code}/ILL-1"
    assert audited.data["bookings_withdrawn"] == 2


def test_a_withdrawal_without_a_reason_is_refused(site: TestClient, world: World) -> None:
    target = world.session(day=RELEASED_DAY, his_session_id="ILL-2")
    session = scheduler(site, world)
    url = f"/console/schedules/{world.hospital.code}/sessions/{target.his_session_id}/withdraw"
    refused = session.post(url, data={"reason": "  "})
    assert refused.status_code == 422
    world.db.commit()
    world.db.refresh(target)
    assert target.status == SessionStatus.ACTIVE


def test_a_role_without_the_duty_sees_no_page_and_its_forged_posts_are_refused(
    site: TestClient, world: World
) -> None:
    target = world.session(day=RELEASED_DAY, his_session_id="ILL-3")
    create_staff(world.db, username="wang", roles={Role.REVIEWER}, now=world.now())
    reviewer = sign_in(site, "wang")
    assert "/console/schedules" not in reviewer.get("/console/").text
    code = world.hospital.code
    assert reviewer.get("/console/schedules").status_code == 403
    assert reviewer.get(f"/console/schedules/{code}").status_code == 403
    url = f"/console/schedules/{code}/sessions/{target.his_session_id}/withdraw"
    forged = reviewer.post(url, data={"reason": "forged"})
    assert forged.status_code == 403
    assert "role_required" in forged.text
    upload_forged = reviewer.client.post(
        f"/console/schedules/{code}/preview",
        data={"csrf_token": reviewer.csrf},
        files={"file": ("x.csv", csv_of(world, row(world, "F-1", UNRELEASED_DAY)), "text/csv")},
    )
    assert upload_forged.status_code == 403
    world.db.commit()
    world.db.refresh(target)
    assert target.status == SessionStatus.ACTIVE


def test_a_post_without_the_csrf_token_is_refused(site: TestClient, world: World) -> None:
    target = world.session(day=RELEASED_DAY, his_session_id="ILL-4")
    session = scheduler(site, world)
    url = f"/console/schedules/{world.hospital.code}/sessions/{target.his_session_id}/withdraw"
    refused = session.client.post(url, data={"reason": "no token"}, follow_redirects=False)
    assert refused.status_code == 403
    assert "csrf_failed" in refused.text
    world.db.commit()
    world.db.refresh(target)
    assert target.status == SessionStatus.ACTIVE
