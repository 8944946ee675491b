"""The draws pages over HTTP on both backends: the list and its filters, a run draw's
seed, order, masked assignment and verification, a pending draw's secrecy, the audit
row, and unknown or malformed draws answered with a page."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from factories.console import ConsoleSession, sign_in
from factories.console import page_text as text
from factories.release_day import ReleaseDay, release_day
from factories.staff import create_staff
from factories.world import World
from fairslot.patients.models import Patient
from fairslot.staff.models import StaffAction
from fairslot.staff.roles import Role


@pytest.fixture
def day(world: World) -> ReleaseDay:
    return release_day(world)


def session_of(site: TestClient, day: ReleaseDay, role: Role) -> ConsoleSession:
    world = day.world
    create_staff(world.db, username=role.value, roles={role}, now=world.now())
    return sign_in(site, role.value)


def test_the_list_shows_every_draw_with_its_state_and_verification(
    site: TestClient, day: ReleaseDay
) -> None:
    session_of(site, day, Role.SCHEDULER)
    response = site.get("/console/draws")
    assert response.status_code == 200
    page = text(response.text)
    assert "共 2 次摇号" in page
    assert f'href="/console/draws/{day.draw.id}"' in response.text
    assert "已开奖" in page and "已验证 ✓" in page and "登记中" in page
    drawn = text(site.get("/console/draws?status=drawn&hospital=&department=&date=").text)
    assert "共 1 次摇号" in drawn
    by_day = site.get(f"/console/draws?date=2026-11-30&department={day.draw_department.id}")
    assert "共 1 次摇号" in text(by_day.text)
    assert f"/console/draws/{day.pending_draw.id}" in by_day.text


def test_filters_a_person_mistyped_are_ignored_not_refused(
    site: TestClient, day: ReleaseDay
) -> None:
    session_of(site, day, Role.AUDITOR)
    response = site.get("/console/draws?hospital=abc&department=-1&date=2026-13-45&status=x")
    assert response.status_code == 200
    assert "共 2 次摇号" in text(response.text)


def test_a_run_draw_shows_seed_checks_and_the_masked_assignment(
    site: TestClient, day: ReleaseDay
) -> None:
    session_of(site, day, Role.SCHEDULER)
    response = site.get(f"/console/draws/{day.draw.id}")
    assert response.status_code == 200
    page = text(response.text)
    draw = day.draw
    assert draw.seed is not None and draw.seed in page
    assert draw.seed_commitment in page and str(draw.inputs_digest) in page
    assert "验证通过" in page
    assert page.count("✓ ") >= 3  # the three checks
    assert response.text.count(">中签<") == 3 and response.text.count(">未中签<") == 1
    # Each winner's slot links to its trace; nobody's name or ID is spelled out.
    for booking in day.winners:
        assert f'href="/console/slots/{booking.slot_id}"' in response.text
    db = day.world.db
    for intent in day.intents:
        patient = db.get(Patient, intent.patient_id)
        assert patient is not None
        name = day.world.platform.protector.decrypt(patient.name_encrypted)
        assert name not in page and f"****{patient.id_last4}" in page
    assert f"fairslot draw verify {draw.id}" in page


def test_reading_a_draw_is_audited(site: TestClient, day: ReleaseDay) -> None:
    session_of(site, day, Role.AUDITOR)
    assert site.get(f"/console/draws/{day.draw.id}").status_code == 200
    db = day.world.db
    rows = db.scalars(select(StaffAction).where(StaffAction.action == "draw.view")).all()
    assert [(r.actor, r.target_id) for r in rows] == [("auditor", str(day.draw.id))]


def test_a_pending_draw_shows_its_commitment_and_hides_its_seed(
    site: TestClient, day: ReleaseDay
) -> None:
    session_of(site, day, Role.CUSTOMER_SERVICE)
    page = text(site.get(f"/console/draws/{day.pending_draw.id}").text)
    assert day.pending_draw.seed_commitment in page
    assert "尚未开奖。" in page and "开奖后公开" in page
    assert "2026-11-23 00:30:00" in page  # due at tomorrow's release, in the hospital's zone


def test_an_unknown_draw_is_a_page_not_an_error(site: TestClient, day: ReleaseDay) -> None:
    session_of(site, day, Role.IT_ADMIN)
    missing = site.get("/console/draws/99999")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("text/html")
    assert "找不到该摇号记录。" in text(missing.text)
    malformed = site.get("/console/draws/abc")
    assert malformed.status_code == 422
    assert malformed.headers["content-type"].startswith("text/html")
    assert site.get("/console/draws/99999999999").status_code == 422


def test_the_draws_pages_need_a_session(site: TestClient, day: ReleaseDay) -> None:
    for url in ("/console/draws", f"/console/draws/{day.draw.id}"):
        response = site.get(url, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/console/login?next=")
