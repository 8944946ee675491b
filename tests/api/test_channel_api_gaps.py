"""The channel API gaps a new channel developer hit (issue 12): the draw/first-come mode of a
department, both ids of a session, the hospital's zone in feeds, Chinese on every refusal,
``account_id`` documented, and one set of payment fields."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from factories.demand import resident_id
from factories.world import RELEASED_DAY, World
from fairslot.allocation.states import AllocationMode
from fairslot.hospitals.service import rotate_hospital_key
from fairslot.notifications import service as notify


def h(world: World) -> dict[str, str]:
    return {"X-Channel-Key": world.channel_key, "X-Device-Id": "imei-9", "X-Wifi-Id": "ap"}


def account_with_patient(client: TestClient, world: World) -> tuple[int, int]:
    account = client.post("/v1/accounts", json={"phone": "13800138009"}, headers=h(world))
    account_id = account.json()["account_id"]
    patient = client.post(
        f"/v1/accounts/{account_id}/patients",
        json={"name": "王芳", "id_number": resident_id(), "phone": "13800138009"},
        headers=h(world),
    )
    assert patient.status_code == 201, patient.text
    return account_id, patient.json()["patient_id"]


def hold(client: TestClient, world: World, account_id: int, patient_id: int) -> dict[str, Any]:
    session = world.session(capacity=2)
    held = client.post(
        "/v1/holds",
        headers=h(world),
        json={"account_id": account_id, "patient_id": patient_id, "session_id": session.id},
    )
    assert held.status_code == 201, held.text
    body: dict[str, Any] = held.json()
    return body


def test_departments_and_availability_say_whether_they_are_first_come_or_a_draw(
    client: TestClient, world: World
) -> None:
    draw_department = world.department_(code="EXPERT", allocation_mode=AllocationMode.DRAW)
    world.session(capacity=2)

    departments = client.get(
        f"/v1/hospitals/{world.hospital.id}/departments", headers=h(world)
    ).json()
    free = client.get(
        "/v1/availability",
        headers=h(world),
        params={
            "department_id": world.department.id,
            "date_from": RELEASED_DAY.isoformat(),
            "date_to": RELEASED_DAY.isoformat(),
        },
    ).json()

    modes = {d["id"]: d["allocation_mode"] for d in departments}
    assert modes == {world.department.id: "first_come", draw_department.id: "draw"}
    assert free[0]["allocation_mode"] == "first_come"


def test_a_session_shows_both_its_ids_to_channels_and_to_the_hospital(
    client: TestClient, world: World
) -> None:
    key = rotate_hospital_key(world.db, hospital=world.hospital)
    world.db.commit()
    account_id, patient_id = account_with_patient(client, world)
    booking = hold(client, world, account_id, patient_id)
    session = world.sessions[-1]
    client.post(
        f"/v1/bookings/{booking['booking_id']}/confirm",
        headers=h(world),
        json={"account_id": account_id, "payment_account": "支付宝:王芳", "payment_reference": "R"},
    )
    free = client.get(
        "/v1/availability",
        headers=h(world),
        params={
            "department_id": world.department.id,
            "date_from": RELEASED_DAY.isoformat(),
            "date_to": RELEASED_DAY.isoformat(),
        },
    ).json()
    sessions = client.get(
        "/hospital/v1/sessions",
        headers={"X-Hospital-Key": key},
        params={"date": RELEASED_DAY.isoformat()},
    ).json()
    feed = client.get("/hospital/v1/feed", headers={"X-Hospital-Key": key}).json()

    assert (booking["session_id"], booking["his_session_id"]) == (
        session.id,
        session.his_session_id,
    )
    assert (free[0]["session_id"], free[0]["his_session_id"]) == (
        session.id,
        session.his_session_id,
    )
    assert (sessions[0]["session_id"], sessions[0]["platform_session_id"]) == (
        session.his_session_id,
        session.id,
    )
    assert feed[0]["payload"]["session_id"] == session.id
    assert feed[0]["payload"]["his_session_id"] == session.his_session_id


def test_the_hospital_feed_and_notifications_give_times_in_the_hospital_zone(
    client: TestClient, world: World
) -> None:
    key = rotate_hospital_key(world.db, hospital=world.hospital)
    world.db.commit()
    account_id, patient_id = account_with_patient(client, world)
    booking = hold(client, world, account_id, patient_id)
    client.post(
        f"/v1/bookings/{booking['booking_id']}/confirm",
        headers=h(world),
        json={"account_id": account_id, "payment_account": "wx:1", "payment_reference": "R-1"},
    )
    for booking_id in (booking["booking_id"], None):
        notify.to_channel(
            world.db,
            channel_id=world.channel.id,
            kind="booking_withdrawn",
            at=world.now(),
            account_id=account_id,
            booking_id=booking_id,
        )
    world.db.commit()

    feed = client.get("/hospital/v1/feed", headers={"X-Hospital-Key": key}).json()
    notes = client.get("/v1/notifications", headers=h(world)).json()

    assert feed[0]["created_at"].endswith("+08:00")
    assert [n["created_at"][-6:] for n in notes] == ["+08:00", "+08:00"]


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "code"),
    [
        ("get", "/v1/hospitals", {"headers": {}}, "channel_key_missing"),
        ("get", "/v1/hospitals", {"headers": {"X-Channel-Key": "nope"}}, "channel_key_invalid"),
        ("get", "/v1/bookings/no-such", {"params": {"account_id": 1}}, "account_not_found"),
        ("get", "/v1/bookings/no-such", {}, "invalid_request"),
        (
            "get",
            "/v1/alternatives",
            {"params": {"session_id": 1, "patient_id": 1}},
            "account_required",
        ),
        ("get", "/staff/v1/cases", {"headers": {}}, "staff_token_missing"),
    ],
)
def test_every_refusal_has_a_chinese_message(
    client: TestClient, world: World, method: str, path: str, kwargs: dict[str, Any], code: str
) -> None:
    kwargs = {"headers": h(world), **kwargs}
    answer = getattr(client, method)(path, **kwargs)

    assert answer.json()["error"] == code, answer.text
    assert any("\u4e00" <= c <= "\u9fff" for c in answer.json()["detail_zh"])


def test_a_refusal_for_another_accounts_booking_or_a_finished_one_is_in_chinese(
    client: TestClient, world: World
) -> None:
    account_id, patient_id = account_with_patient(client, world)
    booking = hold(client, world, account_id, patient_id)
    other = client.post("/v1/accounts", json={"phone": "13900139000"}, headers=h(world))
    path = f"/v1/bookings/{booking['booking_id']}"

    foreign = client.get(path, headers=h(world), params={"account_id": other.json()["account_id"]})
    missing = client.get(f"{path}x", headers=h(world), params={"account_id": account_id})
    client.post(f"{path}/cancel", headers=h(world), json={"account_id": account_id})
    again = client.post(f"{path}/cancel", headers=h(world), json={"account_id": account_id})

    assert foreign.json()["error"] == "not_your_booking" and foreign.json()["detail_zh"]
    assert missing.json()["error"] == "booking_not_found" and missing.json()["detail_zh"]
    assert again.json()["error"] == "booking_not_cancellable" and again.json()["detail_zh"]


def test_the_booking_status_endpoint_documents_its_account_id(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    params = spec["paths"]["/v1/bookings/{booking_id}"]["get"]["parameters"]
    account = next(p for p in params if p["name"] == "account_id")

    assert account["required"] is True
    assert "account" in account["description"]


def test_intents_confirm_and_waitlist_accept_the_same_payment_fields() -> None:
    from fairslot.allocation.schemas import IntentRequest
    from fairslot.bookings.schemas import ConfirmRequest
    from fairslot.waitlist.schemas import JoinRequest

    fields = {"payment_account": "支付宝:王芳" + "x" * 50, "payment_reference": "流水-" + "9" * 120}
    confirm = ConfirmRequest(account_id=1, **fields)
    intent = IntentRequest(account_id=1, patient_id=1, session_id=1, **fields)
    join = JoinRequest(account_id=1, patient_id=1, session_id=1, **fields)

    assert confirm.payment_account == intent.payment_account == join.payment_account
    assert confirm.payment_reference == intent.payment_reference == join.payment_reference
    for model in (ConfirmRequest, IntentRequest, JoinRequest):
        shape = model.model_fields
        assert (
            shape["payment_account"].metadata
            == ConfirmRequest.model_fields["payment_account"].metadata
        )
        assert (
            shape["payment_reference"].metadata
            == ConfirmRequest.model_fields["payment_reference"].metadata
        )


def test_a_withdrawal_tells_the_channel_both_ids_of_the_session_and_the_local_time(
    client: TestClient, world: World
) -> None:
    key = rotate_hospital_key(world.db, hospital=world.hospital)
    world.db.commit()
    account_id, patient_id = account_with_patient(client, world)
    hold(client, world, account_id, patient_id)
    session = world.sessions[-1]

    withdrawn = client.post(
        f"/hospital/v1/sessions/{session.his_session_id}/withdraw",
        headers={"X-Hospital-Key": key},
        json={"reason": "停诊"},
    )
    notes = client.get("/v1/notifications", headers=h(world)).json()

    assert withdrawn.status_code == 200, withdrawn.text
    note = next(n for n in notes if n["kind"] == "booking_withdrawn")
    assert note["payload"]["platform_session_id"] == session.id
    assert note["payload"]["his_session_id"] == session.his_session_id
    assert note["created_at"].endswith("+08:00")
