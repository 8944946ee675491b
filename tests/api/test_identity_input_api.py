"""Keypad-letter phone numbers and emoji names are refused over the channel API, at
registration and at binding, with a stable code and a message in English and Chinese;
a middle-dot variant is stored in its one form. SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from factories.demand import create_channel, resident_id
from fairslot.bootstrap import Platform
from fairslot.patients.models import Patient


@pytest.fixture
def key(db: Session) -> str:
    _, api_key = create_channel(db, code="app-names")
    db.commit()
    return api_key


def _h(api_key: str) -> dict[str, str]:
    return {"X-Channel-Key": api_key, "X-Device-Id": "device-names"}


def _account(client: TestClient, key: str) -> int:
    response = client.post("/v1/accounts", json={"phone": "13812345678"}, headers=_h(key))
    assert response.status_code == 201, response.text
    return int(response.json()["account_id"])


def _bind(client: TestClient, key: str, account_id: int, **fields: Any) -> Any:
    body = {"name": "王芳", "id_number": resident_id(), "phone": "13900001111", **fields}
    return client.post(f"/v1/accounts/{account_id}/patients", json=body, headers=_h(key))


def _refused(response: Any, code: str) -> None:
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["error"] == code
    assert body["detail"] and body["detail_zh"]


@pytest.mark.parametrize("phone", ["1391234abcd", "139-FAIR-SLOT"])
def test_an_account_cannot_be_opened_on_a_phone_spelled_with_letters(
    client: TestClient, key: str, phone: str
) -> None:
    _refused(client.post("/v1/accounts", json={"phone": phone}, headers=_h(key)), "invalid_phone")


@pytest.mark.parametrize("phone", ["1391234abcd", "139-FAIR-SLOT"])
def test_a_patient_cannot_be_bound_with_a_phone_spelled_with_letters(
    client: TestClient, key: str, phone: str
) -> None:
    _refused(_bind(client, key, _account(client, key), phone=phone), "invalid_phone")


@pytest.mark.parametrize("name", ["😀😀", "王芳😀", "王芳2", "Jo#n"])
def test_a_patient_cannot_be_bound_under_an_emoji_digit_or_symbol_name(
    client: TestClient, key: str, name: str
) -> None:
    _refused(_bind(client, key, _account(client, key), name=name), "invalid_name")


def test_a_middle_dot_variant_is_stored_in_its_one_form(
    client: TestClient, key: str, db: Session, platform: Platform
) -> None:
    account = _account(client, key)
    number = resident_id()

    first = _bind(client, key, account, name="阿依古丽・买买提", id_number=number)
    again = _bind(client, key, _account(client, key), name="阿依古丽•买买提", id_number=number)

    assert first.status_code == 201, first.text
    assert again.status_code == 201, again.text  # the same person, whichever dot was typed
    stored = db.scalars(select(Patient.name_encrypted)).all()
    assert [platform.protector.decrypt(token) for token in stored] == ["阿依古丽·买买提"]
