"""A patient's whole journey through the channel and hospital HTTP APIs,
on SQLite and PostgreSQL, with time travel."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from factories.demand import resident_id
from factories.supply import create_hospital_with_key
from factories.world import RELEASED_DAY, UNRELEASED_DAY, World
from fairslot.audit.models import RequestRecord
from fairslot.hospitals.service import rotate_hospital_key


@pytest.fixture
def hospital_key(world: World) -> str:
    key = rotate_hospital_key(world.db, hospital=world.hospital)
    world.db.commit()
    return key


def h(world: World, **extra: str) -> dict[str, str]:
    return {
        "X-Channel-Key": world.channel_key,
        "X-Device-Id": "imei-1",
        "X-End-User-IP": "203.0.113.9",
        "X-Wifi-Id": "home-ap",
        **extra,
    }


def account_with_patient(client: TestClient, world: World) -> tuple[int, int]:
    account = client.post("/v1/accounts", json={"phone": "13800138000"}, headers=h(world))
    assert account.status_code == 201, account.text
    account_id = account.json()["account_id"]
    patient = client.post(
        f"/v1/accounts/{account_id}/patients",
        json={"name": "王芳", "id_number": resident_id(), "phone": "13800138000"},
        headers=h(world),
    )
    assert patient.status_code == 201, patient.text
    return account_id, patient.json()["patient_id"]


def book(
    client: TestClient,
    world: World,
    account_id: int,
    patient_id: int,
    session_id: int,
    payment_account: str,
    payment_reference: str,
) -> dict[str, object]:
    """Hold the session's first free slot and pay for it; returns the hold's JSON."""
    booking: dict[str, object] = client.post(
        "/v1/holds",
        headers=h(world),
        json={"account_id": account_id, "patient_id": patient_id, "session_id": session_id},
    ).json()
    paid = client.post(
        f"/v1/bookings/{booking['booking_id']}/confirm",
        headers=h(world),
        json={
            "account_id": account_id,
            "payment_account": payment_account,
            "payment_reference": payment_reference,
        },
    )
    assert paid.status_code == 200, paid.text
    return booking


def test_a_patient_browses_holds_pays_and_the_hospital_sees_the_booking(
    client: TestClient, world: World, hospital_key: str
) -> None:
    session = world.session(capacity=3)
    account_id, patient_id = account_with_patient(client, world)

    hospitals = client.get("/v1/hospitals", headers=h(world)).json()
    departments = client.get(
        f"/v1/hospitals/{hospitals[0]['id']}/departments", headers=h(world)
    ).json()
    doctors = client.get(f"/v1/departments/{departments[0]['id']}/doctors", headers=h(world)).json()
    free = client.get(
        "/v1/availability",
        headers=h(world),
        params={
            "department_id": departments[0]["id"],
            "date_from": "2026-11-25",
            "date_to": "2026-11-25",
            "title": "chief",
        },
    ).json()
    hold = client.post(
        "/v1/holds",
        headers=h(world),
        json={
            "account_id": account_id,
            "patient_id": patient_id,
            "slot_id": free[0]["slots"][0]["slot_id"],
        },
    )
    paid = client.post(
        f"/v1/bookings/{hold.json()['booking_id']}/confirm",
        headers=h(world),
        json={
            "account_id": account_id,
            "payment_account": "alipay:fang@example",
            "payment_reference": "T-1",
        },
    )
    status = client.get(
        f"/v1/bookings/{hold.json()['booking_id']}",
        headers=h(world),
        params={"account_id": account_id},
    )
    feed = client.get("/hospital/v1/feed", headers={"X-Hospital-Key": hospital_key})

    assert doctors[0]["title"] == "chief"
    assert free[0]["session_id"] == session.id and free[0]["free"] == 3
    assert free[0]["starts_at"].endswith("+08:00")  # the hospital's zone at the edge
    assert hold.status_code == 201 and hold.json()["status"] == "held"
    assert paid.status_code == 200 and paid.json()["status"] == "booked"
    assert paid.json()["payment_account"] == "al****mple"
    assert status.json()["status"] == "booked"
    assert [n["kind"] for n in feed.json()] == ["booking_confirmed"]
    assert feed.json()[0]["payload"]["his_session_id"] == session.his_session_id


def test_a_hold_by_session_takes_the_first_free_slot(client: TestClient, world: World) -> None:
    session = world.session(capacity=2)
    account_id, patient_id = account_with_patient(client, world)
    hold = client.post(
        "/v1/holds",
        headers=h(world),
        json={"account_id": account_id, "patient_id": patient_id, "session_id": session.id},
    )
    assert hold.status_code == 201 and hold.json()["slot_number"] == 1


def test_unreleased_sessions_do_not_exist_for_channels_until_release_time(
    client: TestClient, world: World
) -> None:
    session = world.session(day=UNRELEASED_DAY)
    account_id, patient_id = account_with_patient(client, world)
    slot_id = world.slots(session)[0].id
    params = {
        "department_id": world.department.id,
        "date_from": str(UNRELEASED_DAY),
        "date_to": str(UNRELEASED_DAY),
    }
    body = {"account_id": account_id, "patient_id": patient_id, "slot_id": slot_id}

    assert client.get("/v1/availability", headers=h(world), params=params).json() == []
    early = client.post("/v1/holds", headers=h(world), json=body)
    by_session = client.post(
        "/v1/holds",
        headers=h(world),
        json={"account_id": account_id, "patient_id": patient_id, "session_id": session.id},
    )
    world.platform.clock.set(session.release_at)
    released = client.get("/v1/availability", headers=h(world), params=params).json()
    on_time = client.post("/v1/holds", headers=h(world), json=body)

    assert early.status_code == 404 and early.json()["error"] == "slot_not_found"
    assert by_session.status_code == 404 and by_session.json()["error"] == "session_not_found"
    assert released[0]["free"] == 5
    assert on_time.status_code == 201


def test_a_cancelled_slot_is_not_offered_again_until_it_has_cooled(
    client: TestClient, world: World
) -> None:
    world.session(capacity=1)
    account_id, patient_id = account_with_patient(client, world)
    params = {
        "department_id": world.department.id,
        "date_from": str(RELEASED_DAY),
        "date_to": str(RELEASED_DAY),
    }
    slot_id = client.get("/v1/availability", headers=h(world), params=params).json()[0]["slots"][0][
        "slot_id"
    ]
    booking = client.post(
        "/v1/holds",
        headers=h(world),
        json={"account_id": account_id, "patient_id": patient_id, "slot_id": slot_id},
    ).json()
    client.post(
        f"/v1/bookings/{booking['booking_id']}/confirm",
        headers=h(world),
        json={
            "account_id": account_id,
            "payment_account": "6222000011112222",
            "payment_reference": "P1",
        },
    )

    cancelled = client.post(
        f"/v1/bookings/{booking['booking_id']}/cancel",
        headers=h(world),
        json={"account_id": account_id},
    )
    right_after = client.get("/v1/availability", headers=h(world), params=params).json()
    rebook = client.post(
        "/v1/holds",
        headers=h(world),
        json={"account_id": account_id, "patient_id": patient_id, "slot_id": slot_id},
    )
    world.platform.clock.advance(dt.timedelta(hours=3, seconds=1))
    later = client.get("/v1/availability", headers=h(world), params=params).json()

    assert cancelled.json()["status"] == "cancelled"
    assert right_after[0]["free"] == 0
    assert rebook.status_code == 409 and rebook.json()["error"] == "slot_taken"
    assert later[0]["free"] == 1


def test_the_hospital_checks_in_and_marks_no_shows(
    client: TestClient, world: World, hospital_key: str
) -> None:
    session = world.session(capacity=1)
    account_id, patient_id = account_with_patient(client, world)
    booking = book(client, world, account_id, patient_id, session.id, "wx:123456789", "W")
    hk = {"X-Hospital-Key": hospital_key}

    too_early = client.post(f"/hospital/v1/bookings/{booking['booking_id']}/no-show", headers=hk)
    world.platform.clock.set(session.starts_at)
    came = client.post(f"/hospital/v1/bookings/{booking['booking_id']}/check-in", headers=hk)
    twice = client.post(f"/hospital/v1/bookings/{booking['booking_id']}/check-in", headers=hk)

    assert too_early.status_code == 409 and too_early.json()["error"] == "session_not_over"
    assert came.status_code == 200 and came.json()["status"] == "checked_in"
    assert twice.status_code == 409 and twice.json()["error"] == "booking_not_confirmed"


def test_another_hospital_cannot_touch_a_booking(client: TestClient, world: World, db) -> None:
    session = world.session(capacity=1)
    _, other_key = create_hospital_with_key(db)
    db.commit()
    account_id, patient_id = account_with_patient(client, world)
    booking = client.post(
        "/v1/holds",
        headers=h(world),
        json={"account_id": account_id, "patient_id": patient_id, "session_id": session.id},
    ).json()
    world.platform.clock.set(session.starts_at)
    response = client.post(
        f"/hospital/v1/bookings/{booking['booking_id']}/check-in",
        headers={"X-Hospital-Key": other_key},
    )
    assert response.status_code == 404 and response.json()["error"] == "booking_not_found"


def test_every_request_for_a_patient_is_recorded_with_its_context_even_when_refused(
    client: TestClient, world: World, db
) -> None:
    session = world.session(capacity=1)
    account_id, patient_id = account_with_patient(client, world)
    body = {"account_id": account_id, "patient_id": patient_id, "session_id": session.id}
    client.post("/v1/holds", headers=h(world), json=body)
    refused = client.post("/v1/holds", headers=h(world), json=body)

    records = db.scalars(
        select(RequestRecord).where(RequestRecord.action == "hold").order_by(RequestRecord.id)
    ).all()
    assert refused.status_code == 409
    assert [r.outcome for r in records] == ["ok", "session_full"]
    assert {(r.device_key, r.ip_key, r.ip_label, r.wifi_key, r.account_id) for r in records} == {
        (
            world.device_key("imei-1"),
            world.network_key("203.0.113.9"),
            "203.0.113.x",
            world.network_key("home-ap"),
            account_id,
        )
    }


@pytest.mark.parametrize(
    ("method", "path", "kwargs"),
    [
        (
            "get",
            "/v1/availability",
            {"params": {"department_id": "x", "date_from": "2026-11-25", "date_to": "2026-11-25"}},
        ),
        (
            "get",
            "/v1/availability",
            {
                "params": {
                    "department_id": 99999999999999,
                    "date_from": "2026-11-25",
                    "date_to": "2026-11-25",
                }
            },
        ),
        (
            "get",
            "/v1/availability",
            {"params": {"department_id": 1, "date_from": "2026-12-25", "date_to": "2026-11-25"}},
        ),
        (
            "get",
            "/v1/availability",
            {"params": {"department_id": 1, "date_from": "2026-01-01", "date_to": "2026-12-31"}},
        ),
        ("post", "/v1/holds", {"content": b"{not json"}),
        ("post", "/v1/holds", {"json": {"account_id": 1, "patient_id": 1}}),
        ("post", "/v1/holds", {"json": {"account_id": -1, "patient_id": 1, "slot_id": "x"}}),
        ("post", "/v1/holds", {"json": {"account_id": 1, "patient_id": 1, "slot_id": "x" * 500}}),
        ("post", "/v1/holds", {"json": {"account_id": 1, "patient_id": 1, "slot_id": "nope"}}),
        (
            "post",
            "/v1/bookings/nope/confirm",
            {"json": {"account_id": 1, "payment_account": "a", "payment_reference": "b"}},
        ),
        ("post", "/v1/bookings/nope/cancel", {"json": {"account_id": 1}}),
        ("get", "/v1/bookings/nope", {"params": {"account_id": 1}}),
        ("get", "/v1/departments/0/doctors", {}),
        ("get", "/v1/hospitals/123456/departments", {}),
        ("get", "/v1/notifications", {"params": {"after": -5}}),
        ("delete", "/v1/holds", {}),
    ],
)
def test_bad_input_gets_a_clear_4xx_and_never_a_500(
    client: TestClient, world: World, method: str, path: str, kwargs: dict
) -> None:
    response = getattr(client, method)(path, headers=h(world), **kwargs)
    assert 400 <= response.status_code < 500, response.text
    body = response.json()
    assert set(body) >= {"error", "detail"} and body["detail"]


def test_requests_without_a_valid_channel_key_are_refused(client: TestClient, world: World) -> None:
    missing = client.get("/v1/hospitals")
    wrong = client.get("/v1/hospitals", headers={"X-Channel-Key": "ck_wrong"})
    assert missing.status_code == 401 and missing.json()["error"] == "channel_key_missing"
    assert wrong.status_code == 401 and wrong.json()["error"] == "channel_key_invalid"


def test_openapi_and_health_are_served(client: TestClient) -> None:
    assert client.get("/healthz").json()["status"] == "ok"
    spec = client.get("/openapi.json").json()
    assert "/v1/holds" in spec["paths"] and "/hospital/v1/schedule" in spec["paths"]
    assert "/console/" not in spec["paths"]  # pages are not part of the API's contract


def test_the_docs_are_served_by_the_site_from_the_package(site: TestClient) -> None:
    for path, asset in (
        ("/docs", "/static/vendor/swagger-ui/swagger-ui-bundle.js"),
        ("/redoc", "/static/vendor/redoc/redoc.standalone.js"),
    ):
        page = site.get(path)
        assert page.status_code == 200
        assert asset in page.text
        assert "cdn" not in page.text.lower() and "https://" not in page.text
        assert site.get(asset).status_code == 200


def test_an_oversized_body_is_refused_before_it_is_read(client: TestClient, world: World) -> None:
    response = client.post("/v1/holds", headers=h(world), content=b"x" * (65 * 1024))
    assert response.status_code == 413 and response.json()["error"] == "body_too_large"


def test_a_payment_account_of_control_characters_is_refused(
    client: TestClient, world: World
) -> None:
    session = world.session(capacity=1)
    account_id, patient_id = account_with_patient(client, world)
    booking = client.post(
        "/v1/holds",
        headers=h(world),
        json={"account_id": account_id, "patient_id": patient_id, "session_id": session.id},
    ).json()
    response = client.post(
        f"/v1/bookings/{booking['booking_id']}/confirm",
        headers=h(world),
        json={"account_id": account_id, "payment_account": "\u0000", "payment_reference": "\u0000"},
    )
    assert response.status_code == 422 and response.json()["error"] == "invalid_request"


def test_check_in_refuses_an_id_card_that_is_not_the_booked_patients(
    client: TestClient, world: World, hospital_key: str
) -> None:
    session = world.session(capacity=1)
    account_id, patient_id = account_with_patient(client, world)
    booking = book(client, world, account_id, patient_id, session.id, "wx:1234567", "R")
    world.platform.clock.set(session.starts_at)
    url = f"/hospital/v1/bookings/{booking['booking_id']}/check-in"
    hk = {"X-Hospital-Key": hospital_key}

    stranger = client.post(url, headers=hk, json={"id_number": resident_id()})
    garbage = client.post(url, headers=hk, json={"id_number": "123456789012345678"})

    assert stranger.status_code == 409 and stranger.json()["error"] == "identity_mismatch"
    assert garbage.status_code == 422
