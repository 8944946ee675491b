"""The slot trace over HTTP on both backends: the search form, the redirect from a booking
to its slot, the timeline with masked people and hashed identifiers, the audit row, and
unknown GUIDs or bookings answered with the form, not an error."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from factories.console import ConsoleSession, sign_in
from factories.console import page_text as text
from factories.release_day import ReleaseDay, release_day
from factories.staff import create_staff
from factories.world import World
from fairslot.bookings.models import Booking
from fairslot.patients.models import Patient
from fairslot.staff.models import StaffAction
from fairslot.staff.roles import Role

UNKNOWN = "00000000-0000-4000-8000-000000000000"


@pytest.fixture
def day(world: World) -> ReleaseDay:
    return release_day(world)


@pytest.fixture
def cancelled(day: ReleaseDay) -> Booking:
    assert day.cancelled_booking is not None
    return day.cancelled_booking


def session_of(site: TestClient, day: ReleaseDay, role: Role) -> ConsoleSession:
    world = day.world
    create_staff(world.db, username=role.value, roles={role}, now=world.now())
    return sign_in(site, role.value)


def test_the_search_form_has_a_labelled_field_for_each_way_in(
    site: TestClient, day: ReleaseDay
) -> None:
    session_of(site, day, Role.CUSTOMER_SERVICE)
    response = site.get("/console/slots")
    assert response.status_code == 200
    page = response.text
    assert 'name="guid"' in page and 'name="booking_id"' in page
    assert "号源 GUID" in text(page) and "预约单号" in text(page)


def test_a_guid_or_a_booking_id_leads_to_the_slots_page(
    site: TestClient, day: ReleaseDay, cancelled: Booking
) -> None:
    session_of(site, day, Role.REVIEWER)
    by_guid = site.get(f"/console/slots?guid=+{cancelled.slot_id}+", follow_redirects=False)
    assert by_guid.status_code == 303
    assert by_guid.headers["location"] == f"/console/slots/{cancelled.slot_id}"
    by_booking = site.get(f"/console/slots?booking_id={cancelled.id}", follow_redirects=False)
    assert by_booking.status_code == 303
    assert by_booking.headers["location"] == f"/console/slots/{cancelled.slot_id}"


def test_the_trace_reads_as_a_timeline_in_the_hospitals_zone(
    site: TestClient, day: ReleaseDay, cancelled: Booking
) -> None:
    session_of(site, day, Role.REVIEWER)
    response = site.get(f"/console/slots/{cancelled.slot_id}")
    assert response.status_code == 200
    page = text(response.text)
    kinds = ["医院推送", "放号", "锁定", "预约成功", "取消", "进入冷却"]
    positions = [page.index(f"{kind} #{n}") for n, kind in enumerate(kinds, start=1)]
    assert positions == sorted(positions)
    assert "2026-11-22 08:00:00 锁定 #3" in page  # seconds, Shanghai time
    assert "2026-11-18 00:30:00 放号 #2" in page
    assert "账本重放得到「冷却中」，与存储的状态一致。" in page
    assert cancelled.slot_id in page


def test_people_and_identifiers_are_masked(
    site: TestClient, day: ReleaseDay, cancelled: Booking
) -> None:
    session_of(site, day, Role.SCHEDULER)
    page = text(site.get(f"/console/slots/{cancelled.slot_id}").text)
    patient = day.world.db.get(Patient, cancelled.patient_id)
    assert patient is not None
    name = day.world.platform.protector.decrypt(patient.name_encrypted)
    assert name not in page and f"****{patient.id_last4}" in page
    assert f"phone-{patient.id}" not in page  # the device id
    assert "198.51.100.7" not in page and "6222020000009876" not in page
    assert str(cancelled.payment_account_hash)[:10] in page


def test_reading_a_trace_is_audited(site: TestClient, day: ReleaseDay, cancelled: Booking) -> None:
    session_of(site, day, Role.IT_ADMIN)
    site.get(f"/console/slots/{cancelled.slot_id}")
    rows = day.world.db.scalars(select(StaffAction).where(StaffAction.action == "slot.trace"))
    assert [(r.actor, r.target_id) for r in rows] == [("it_admin", cancelled.slot_id)]


def test_an_unknown_guid_or_booking_shows_the_form_with_a_message(
    site: TestClient, day: ReleaseDay
) -> None:
    session_of(site, day, Role.AUDITOR)
    for url, message in (
        (f"/console/slots/{UNKNOWN}", "找不到该号源，请检查 GUID。"),
        (f"/console/slots?booking_id={UNKNOWN}", "找不到该预约，请检查预约单号。"),
        ("/console/slots/not-a-guid", "找不到该号源，请检查 GUID。"),
    ):
        response = site.get(url)
        assert response.status_code == 404, url
        assert response.headers["content-type"].startswith("text/html")
        assert message in text(response.text)
        assert 'name="guid"' in response.text
    rows = day.world.db.scalars(select(StaffAction).where(StaffAction.action == "slot.trace"))
    assert list(rows) == []


def test_the_slot_pages_need_a_session(
    site: TestClient, day: ReleaseDay, cancelled: Booking
) -> None:
    for url in ("/console/slots", f"/console/slots/{cancelled.slot_id}"):
        response = site.get(url, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/console/login?next=")
