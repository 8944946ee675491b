"""A blocked identifier can no longer book through any channel; an in-person appeal
lifts the block. Over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from factories.demand import create_channel, resident_id
from factories.world import World
from fairslot.audit.models import RequestRecord
from fairslot.blacklist import service as blacklist
from fairslot.blacklist.models import BlacklistEntry, Scope
from fairslot.channels.models import ChannelKind
from fairslot.errors import DomainError
from fairslot.staff.audit import cli_actor


def h(key: str, device: str = "imei-1") -> dict[str, str]:
    return {"X-Channel-Key": key, "X-Device-Id": device, "X-End-User-IP": "198.51.100.20"}


def register(client: TestClient, key: str, phone: str) -> tuple[int, int]:
    account = client.post("/v1/accounts", json={"phone": phone}, headers=h(key))
    assert account.status_code == 201, account.text
    account_id = account.json()["account_id"]
    patient = client.post(
        f"/v1/accounts/{account_id}/patients",
        json={"name": "李强", "id_number": resident_id(), "phone": phone},
        headers=h(key),
    )
    assert patient.status_code == 201, patient.text
    return account_id, patient.json()["patient_id"]


def block(world: World, scope: Scope, value: str, days: int | None = None) -> int:
    entry = blacklist.block(
        world.db,
        scope=scope,
        value=value,
        reason="confirmed ring (case 7)",
        actor=cli_actor("it-admin"),
        now=world.now(),
        protector=world.platform.protector,
        days=days,
    )
    world.db.commit()
    return entry.id


def test_a_blocked_phone_can_no_longer_book_through_any_channel_until_lifted_in_person(
    client: TestClient, world: World
) -> None:
    session = world.session(capacity=3)
    _, alipay_key = create_channel(world.db, kind=ChannelKind.ALIPAY)
    world.db.commit()
    account_id, patient_id = register(client, world.channel_key, "13900139000")
    other_account, other_patient = register(client, alipay_key, "13900139000")
    entry_id = block(world, Scope.PHONE, "139 0013 9000")  # any spelling of the number

    hold = {"account_id": account_id, "patient_id": patient_id, "session_id": session.id}
    refused = client.post("/v1/holds", json=hold, headers=h(world.channel_key))
    refused_elsewhere = client.post(
        "/v1/holds",
        json={"account_id": other_account, "patient_id": other_patient, "session_id": session.id},
        headers=h(alipay_key, "another-phone"),
    )
    new_account = client.post(
        "/v1/accounts", json={"phone": "13900139000"}, headers=h(alipay_key, "third")
    )

    for response in (refused, refused_elsewhere, new_account):
        assert response.status_code == 403
        body = response.json()
        assert body["error"] == "request_blocked"
        assert "phone" not in body["detail"]  # does not reveal what was blocked
    outcomes = world.db.scalars(
        select(RequestRecord.outcome).where(RequestRecord.action == "hold")
    ).all()
    assert outcomes.count("request_blocked") == 2

    blacklist.lift_in_person(
        world.db,
        entry_id=entry_id,
        actor=cli_actor("desk-wang"),
        checked="ID card and phone seen",
        now=world.now(),
    )
    world.db.commit()
    again = client.post("/v1/holds", json=hold, headers=h(world.channel_key))
    assert again.status_code == 201, again.text


def test_a_blocked_device_or_payment_account_is_refused(client: TestClient, world: World) -> None:
    session = world.session(capacity=2)
    account_id, patient_id = register(client, world.channel_key, "13700137000")
    block(world, Scope.DEVICE, "grab-bot-7")
    block(world, Scope.PAYMENT, "alipay:mule@example")

    from_bot = client.post(
        "/v1/holds",
        json={"account_id": account_id, "patient_id": patient_id, "session_id": session.id},
        headers=h(world.channel_key, "grab-bot-7"),
    )
    held = client.post(
        "/v1/holds",
        json={"account_id": account_id, "patient_id": patient_id, "session_id": session.id},
        headers=h(world.channel_key),
    )
    paid = client.post(
        f"/v1/bookings/{held.json()['booking_id']}/confirm",
        json={
            "account_id": account_id,
            "payment_account": "alipay:mule@example",
            "payment_reference": "X",
        },
        headers=h(world.channel_key),
    )
    assert (from_bot.status_code, from_bot.json()["error"]) == (403, "request_blocked")
    assert held.status_code == 201
    assert paid.status_code == 403 and paid.json()["error"] == "request_blocked"


def test_a_blocked_patient_or_network_is_refused_whatever_else_the_request_carries(
    client: TestClient, world: World
) -> None:
    session = world.session(capacity=3)
    id_number = resident_id()
    account = client.post(
        "/v1/accounts", json={"phone": "13300133000"}, headers=h(world.channel_key)
    )
    patient = client.post(
        f"/v1/accounts/{account.json()['account_id']}/patients",
        json={"name": "王芳", "id_number": id_number, "phone": "13300133000"},
        headers=h(world.channel_key),
    )
    assert patient.status_code == 201, patient.text
    account_id, patient_id = register(client, world.channel_key, "13200132000")
    block(world, Scope.PATIENT, id_number)
    block(world, Scope.NETWORK, "203.0.113.77")
    block(world, Scope.NETWORK, "cafe-ap")

    def hold(account: int, patient: int, **headers: str) -> tuple[int, str | None]:
        response = client.post(
            "/v1/holds",
            json={"account_id": account, "patient_id": patient, "session_id": session.id},
            headers={**h(world.channel_key), **headers},
        )
        return response.status_code, response.json().get("error")

    blocked = (403, "request_blocked")
    assert hold(account.json()["account_id"], patient.json()["patient_id"]) == blocked
    assert hold(account_id, patient_id, **{"X-End-User-IP": "203.0.113.77"}) == blocked
    assert hold(account_id, patient_id, **{"X-Wifi-Id": "cafe-ap"}) == blocked
    assert hold(account_id, patient_id, **{"X-Wifi-Id": "home-ap"}) == (201, None)


def test_a_block_with_an_expiry_ends_by_itself(client: TestClient, world: World) -> None:
    session = world.session(capacity=1)
    account_id, patient_id = register(client, world.channel_key, "13600136000")
    block(world, Scope.ACCOUNT, str(account_id), days=1)
    body = {"account_id": account_id, "patient_id": patient_id, "session_id": session.id}

    refused = client.post("/v1/holds", json=body, headers=h(world.channel_key))
    assert (refused.status_code, refused.json()["error"]) == (403, "request_blocked")
    world.platform.clock.advance(dt.timedelta(days=1, seconds=1))
    assert client.post("/v1/holds", json=body, headers=h(world.channel_key)).status_code == 201


def test_an_expired_block_can_be_renewed_and_the_old_entry_is_closed(world: World) -> None:
    first = block(world, Scope.DEVICE, "imei-renewed", days=1)
    world.platform.clock.advance(dt.timedelta(days=2))
    second = block(world, Scope.DEVICE, "imei-renewed", days=30)
    world.db.expire_all()
    old = world.db.get(BlacklistEntry, first)
    assert second != first
    assert old is not None and old.lifted_at is not None and old.lift_note == "expired"


def test_blocking_needs_a_reason_a_valid_identifier_and_is_not_doubled(world: World) -> None:
    with pytest.raises(DomainError) as no_reason:
        blacklist.block(
            world.db,
            scope=Scope.PHONE,
            value="13500135000",
            reason=" ",
            actor=cli_actor("it"),
            now=world.now(),
            protector=world.platform.protector,
        )
    with pytest.raises(DomainError) as bad_id:
        blacklist.block(
            world.db,
            scope=Scope.PATIENT,
            value="123",
            reason="r",
            actor=cli_actor("it"),
            now=world.now(),
            protector=world.platform.protector,
        )
    block(world, Scope.NETWORK, "198.51.100.99")
    with pytest.raises(DomainError) as twice:
        block(world, Scope.NETWORK, "198.51.100.99")
    assert (no_reason.value.code, bad_id.value.code, twice.value.code) == (
        "reason_required",
        "invalid_identifier",
        "already_blocked",
    )


def test_a_patient_blocked_between_hold_and_payment_cannot_pay(
    client: TestClient, world: World
) -> None:
    session = world.session(capacity=1)
    account_id, patient_id = register(client, world.channel_key, "13500135001")
    body = {"account_id": account_id, "patient_id": patient_id, "session_id": session.id}
    held = client.post("/v1/holds", json=body, headers=h(world.channel_key))
    assert held.status_code == 201, held.text
    block(world, Scope.PHONE, "13500135001")  # the patient's phone, found by the review
    world.platform.clock.advance(dt.timedelta(seconds=30))

    paid = client.post(
        f"/v1/bookings/{held.json()['booking_id']}/confirm",
        json={
            "account_id": account_id,
            "payment_account": "6222020200112233",
            "payment_reference": "PAY-1",
        },
        headers=h(world.channel_key),
    )
    assert paid.status_code == 403
    assert paid.json()["error"] == "request_blocked"
    record = world.db.scalars(select(RequestRecord).where(RequestRecord.action == "confirm")).one()
    assert (record.outcome, record.decision, record.reasons) == (
        "request_blocked",
        "block",
        "blacklisted",
    )
