"""The channel API for accounts and patients, over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from factories.demand import create_channel, resident_id
from fairslot.api.app import create_app
from fairslot.audit.models import RequestRecord
from fairslot.bootstrap import Platform
from fairslot.channels import service as channels
from fairslot.patients.identity import Sex


@pytest.fixture
def client(platform: Platform) -> Iterator[TestClient]:
    with TestClient(create_app(platform)) as test_client:
        yield test_client


@pytest.fixture
def key(db: Session) -> str:
    _, api_key = create_channel(db, code="app-one")
    db.commit()
    return api_key


def _h(api_key: str) -> dict[str, str]:
    return {"X-Channel-Key": api_key, "X-Device-Id": "device-1"}


def _account(client: TestClient, api_key: str, phone: str = "13812345678") -> int:
    response = client.post("/v1/accounts", json={"phone": phone}, headers=_h(api_key))
    assert response.status_code == 201, response.text
    return int(response.json()["account_id"])


def _patient_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"name": "王芳", "id_number": resident_id(), "phone": "13900001111"}
    body.update(overrides)
    return body


def _bind(client: TestClient, api_key: str, account_id: int, **overrides: Any) -> httpx.Response:
    return client.post(
        f"/v1/accounts/{account_id}/patients", json=_patient_body(**overrides), headers=_h(api_key)
    )


def test_an_account_is_opened_and_its_phone_shown_masked(client: TestClient, key: str) -> None:
    response = client.post(
        "/v1/accounts", json={"phone": "138 1234 5678", "external_ref": "u-1"}, headers=_h(key)
    )

    assert response.status_code == 201
    body = response.json()
    assert body["phone_masked"] == "+86138****5678"
    assert isinstance(body["account_id"], int)
    assert "13812345678" not in response.text


def test_requests_without_a_valid_channel_key_are_refused(
    client: TestClient, key: str, db: Session
) -> None:
    missing = client.post("/v1/accounts", json={"phone": "13812345678"})
    wrong = client.post("/v1/accounts", json={"phone": "13812345678"}, headers=_h("ck_nope"))
    channels.deactivate(db, code="app-one")
    db.commit()
    switched_off = client.post("/v1/accounts", json={"phone": "13812345678"}, headers=_h(key))

    assert (missing.status_code, missing.json()["error"]) == (401, "channel_key_missing")
    assert (wrong.status_code, wrong.json()["error"]) == (401, "channel_key_invalid")
    assert (switched_off.status_code, switched_off.json()["error"]) == (401, "channel_key_invalid")


def test_a_third_account_on_one_phone_is_refused_with_409(client: TestClient, key: str) -> None:
    _account(client, key)
    _account(client, key)

    response = client.post("/v1/accounts", json={"phone": "13812345678"}, headers=_h(key))

    assert response.status_code == 409
    assert response.json()["error"] == "phone_account_limit"
    assert response.json()["detail"]


def test_an_unreadable_phone_is_a_422_with_a_stable_code(client: TestClient, key: str) -> None:
    response = client.post("/v1/accounts", json={"phone": "12345"}, headers=_h(key))

    assert (response.status_code, response.json()["error"]) == (422, "invalid_phone")


def test_a_patient_is_bound_listed_and_unbound(client: TestClient, key: str) -> None:
    account_id = _account(client, key)
    number = resident_id(sex=Sex.MALE)

    bound = _bind(client, key, account_id, name="张伟", id_number=number, relation="parent")
    listed = client.get(f"/v1/accounts/{account_id}/patients", headers=_h(key))
    patient_id = bound.json()["patient_id"]
    removed = client.delete(f"/v1/accounts/{account_id}/patients/{patient_id}", headers=_h(key))
    after = client.get(f"/v1/accounts/{account_id}/patients", headers=_h(key))

    assert bound.status_code == 201
    assert bound.json()["name_masked"] == "张*"
    assert bound.json()["id_number_masked"] == number[:3] + "*" * 11 + number[-4:]
    assert bound.json()["sex"] == "male"
    assert bound.json()["relation"] == "parent"
    assert listed.status_code == 200 and listed.json() == [bound.json()]
    assert removed.status_code == 204
    assert after.json() == []


def test_another_channel_cannot_see_or_use_an_account_it_did_not_open(
    client: TestClient, key: str, db: Session
) -> None:
    _, other_key = create_channel(db, code="app-two")
    db.commit()
    account_id = _account(client, key)

    bound = _bind(client, other_key, account_id)
    listed = client.get(f"/v1/accounts/{account_id}/patients", headers=_h(other_key))
    own = client.get(f"/v1/accounts/{account_id}/patients", headers=_h(key))

    # Account ids are sequential: another channel's account must look like no account.
    assert bound.status_code == 404 and bound.json()["error"] == "account_not_found"
    assert listed.status_code == 404 and listed.json()["error"] == "account_not_found"
    assert own.status_code == 200 and own.json() == []


def test_a_fifth_patient_on_one_account_is_refused(client: TestClient, key: str) -> None:
    account_id = _account(client, key)
    for _ in range(4):
        assert _bind(client, key, account_id).status_code == 201

    response = _bind(client, key, account_id)

    assert (response.status_code, response.json()["error"]) == (409, "binding_limit")


def test_an_invalid_resident_id_gets_a_message_the_patient_can_act_on(
    client: TestClient, key: str
) -> None:
    account_id = _account(client, key)
    number = resident_id()
    wrong = number[:-1] + ("0" if number[-1] != "0" else "1")

    response = _bind(client, key, account_id, id_number=wrong)

    assert (response.status_code, response.json()["error"]) == (422, "invalid_resident_id")
    assert "check" in response.json()["detail"]


def test_a_known_id_with_another_name_is_refused_over_http(client: TestClient, key: str) -> None:
    number = resident_id()
    first, second = _account(client, key), _account(client, key, "13700001111")
    assert _bind(client, key, first, name="赵敏", id_number=number).status_code == 201

    response = _bind(client, key, second, name="黄勇", id_number=number)

    assert (response.status_code, response.json()["error"]) == (409, "identity_mismatch")
    assert "赵" not in response.text


def test_a_refused_bind_is_still_recorded_with_the_persons_key(
    client: TestClient, key: str, db: Session, platform: Platform
) -> None:
    number = resident_id()
    _bind(client, key, _account(client, key), name="赵敏", id_number=number)
    stranger = _account(client, key, "13700001111")

    _bind(client, key, stranger, name="黄勇", id_number=number)

    record = db.scalars(
        select(RequestRecord).where(
            RequestRecord.action == "bind_patient", RequestRecord.account_id == stranger
        )
    ).one()
    assert record.outcome == "identity_mismatch"
    assert record.device_key == platform.protector.keyed_hash("device-1", purpose="device")
    assert record.patient_key == platform.protector.keyed_hash(number, purpose="resident_id")


def test_unknown_accounts_and_patients_are_refused_without_a_server_error(
    client: TestClient, key: str
) -> None:
    account_id = _account(client, key)

    unknown = client.get("/v1/accounts/424242/patients", headers=_h(key))
    huge = client.get(f"/v1/accounts/{2**63}/patients", headers=_h(key))
    not_bound = client.delete(f"/v1/accounts/{account_id}/patients/77", headers=_h(key))
    bind_unknown = _bind(client, key, 424242)

    assert (unknown.status_code, unknown.json()["error"]) == (404, "account_not_found")
    assert (huge.status_code, huge.json()["error"]) == (422, "invalid_request")
    assert (not_bound.status_code, not_bound.json()["error"]) == (403, "patient_not_bound")
    assert (bind_unknown.status_code, bind_unknown.json()["error"]) == (404, "account_not_found")


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"name": "王芳"},
        {"name": None, "id_number": "x", "phone": "1"},
        {"name": "王\x00芳", "id_number": "110105199006150021", "phone": "13812345678"},
        {"name": "王芳", "id_number": "1" * 33, "phone": "13812345678"},
        {"name": "王芳", "id_number": "\x00" * 18, "phone": "\x00"},
        {"name": "🙂🙂", "id_number": "١١٠١٠٥١٩٩٠٠٦١٥٠٠٢١", "phone": "13812345678"},
        {"name": "王芳", "id_number": ["1"], "phone": {"a": 1}},
        {"name": "王芳", "id_number": "110105199006150021", "phone": "1" * 32},
        {"name": "王芳", "id_number": "x", "phone": "13812345678", "insurance_card": "\x00"},
        {"name": "王芳", "id_number": "x", "phone": "13812345678", "relation": "\x00"},
        {"name": "王芳", "id_number": "x", "phone": "13812345678", "extra": 1},
    ],
)
def test_no_bind_request_gives_a_server_error(
    client: TestClient, key: str, body: dict[str, Any]
) -> None:
    account_id = _account(client, key)

    response = client.post(f"/v1/accounts/{account_id}/patients", json=body, headers=_h(key))

    assert response.status_code in (404, 409, 422)
    assert set(response.json()) >= {"error", "detail"}


@pytest.mark.parametrize(
    "body",
    [
        {"phone": "\x00"},
        {"phone": "13812345678", "external_ref": "\x00bad"},
        {"phone": "13812345678", "external_ref": "r" * 129},
        {"phone": "+" + "9" * 31},
        {"phone": 13812345678},
    ],
)
def test_no_account_request_gives_a_server_error(
    client: TestClient, key: str, body: dict[str, Any]
) -> None:
    response = client.post("/v1/accounts", json=body, headers=_h(key))

    assert response.status_code == 422
    assert set(response.json()) >= {"error", "detail"}


def test_the_full_id_number_never_appears_in_any_response(
    client: TestClient, key: str, db: Session
) -> None:
    number = resident_id()
    bodies: list[str] = []
    first = _account(client, key)
    second = _account(client, key, "13700001111")

    bodies.append(_bind(client, key, first, name="陈静", id_number=number).text)
    bodies.append(_bind(client, key, first, name="陈静", id_number=number).text)  # again
    bodies.append(_bind(client, key, second, name="陈 静", id_number=number.lower()).text)
    bodies.append(_bind(client, key, second, name="别人", id_number=number).text)
    bodies.append(_bind(client, key, second, name="陈静", id_number=number[:-1]).text)
    bodies.append(_bind(client, key, second, name="陈静", id_number=number, phone="1").text)
    bodies.append(client.get(f"/v1/accounts/{first}/patients", headers=_h(key)).text)
    bodies.append(client.get(f"/v1/accounts/{second}/patients", headers=_h(key)).text)
    records = db.execute(text("SELECT * FROM request_records")).all()

    assert len(bodies) == 8 and all(bodies)
    assert not [body for body in bodies if number in body or number[:-1] in body]
    assert not [row for row in records if any(number in str(value) for value in row)]
