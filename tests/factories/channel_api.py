"""Arrangements over the channel and hospital APIs (HTTP through the test client): a
hospital pushes one expert clinic, a person opens an account and binds themself, and
holds through the channel."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from fastapi.testclient import TestClient
from httpx import Response

from factories.demand import resident_id
from factories.world import UNRELEASED_DAY, World
from fairslot.hospitals.service import rotate_hospital_key
from fairslot.schedules.repository import session_by_his_id


@dataclass(frozen=True)
class PushedClinic:
    hospital_key: str
    session_id: int
    department_id: int


def push_expert_clinic(
    client: TestClient,
    world: World,
    *,
    capacity: int,
    day: dt.date = UNRELEASED_DAY,
    allocation_mode: str | None = None,
) -> PushedClinic:
    """The world's hospital pushes department EXP's chief's morning session ``X1`` on
    ``day`` (a draw department with ``allocation_mode="draw"``), with its own new key."""
    key = rotate_hospital_key(world.db, hospital=world.hospital)
    world.db.commit()
    department: dict[str, str] = {"code": "EXP", "name": "专家门诊", "specialty": "internal"}
    if allocation_mode is not None:
        department["allocation_mode"] = allocation_mode
    doc = {
        "hospital": world.hospital.code,
        "departments": [department],
        "doctors": [{"code": "DRX", "name": "张医生", "title": "chief", "department": "EXP"}],
        "sessions": [
            {
                "session_id": "X1",
                "department": "EXP",
                "doctor": "DRX",
                "date": str(day),
                "period": "am",
                "start": "08:00",
                "end": "12:00",
                "fee": "100.00",
                "capacity": capacity,
            }
        ],
    }
    pushed = client.post("/hospital/v1/schedule", json=doc, headers={"X-Hospital-Key": key})
    assert pushed.status_code == 200, pushed.text
    found = session_by_his_id(world.db, hospital_id=world.hospital.id, his_session_id="X1")
    assert found is not None
    world.db.commit()
    return PushedClinic(hospital_key=key, session_id=found.id, department_id=found.department_id)


def sign_up(client: TestClient, *, phone: str, headers: dict[str, str]) -> tuple[int, int]:
    """A person's account on the channel and themself bound to it: (account, patient)."""
    account = client.post("/v1/accounts", json={"phone": phone}, headers=headers)
    assert account.status_code == 201, account.text
    account_id = account.json()["account_id"]
    bound = client.post(
        f"/v1/accounts/{account_id}/patients",
        json={"name": "王芳", "id_number": resident_id(), "phone": phone},
        headers=headers,
    )
    assert bound.status_code == 201, bound.text
    return account_id, bound.json()["patient_id"]


@dataclass(frozen=True)
class Person:
    """An account on the world's channel with its holder bound, and the headers of the
    device they signed up from."""

    account_id: int
    patient_id: int
    headers: dict[str, str]


def channel_headers(world: World, *, device: str) -> dict[str, str]:
    """A request on the world's channel from ``device``."""
    return {"X-Channel-Key": world.channel_key, "X-Device-Id": device}


def person(client: TestClient, world: World, phone: str) -> Person:
    """:func:`sign_up` on the world's channel from the device ``dev-<phone>``."""
    headers = channel_headers(world, device=f"dev-{phone}")
    account_id, patient_id = sign_up(client, phone=phone, headers=headers)
    return Person(account_id=account_id, patient_id=patient_id, headers=headers)


def hold(
    client: TestClient,
    who: Person,
    *,
    slot_id: str | None = None,
    session_id: int | None = None,
    device: str | None = None,
) -> Response:
    """``who`` holds a slot, or any slot of a session, through the channel API from
    their own device (or ``device``); the answer is the test's to check."""
    assert (slot_id is None) != (session_id is None), "a slot or a session"
    place = {"slot_id": slot_id} if slot_id is not None else {"session_id": session_id}
    headers = who.headers if device is None else {**who.headers, "X-Device-Id": device}
    return client.post(
        "/v1/holds",
        headers=headers,
        json={"account_id": who.account_id, "patient_id": who.patient_id, **place},
    )


def confirm(client: TestClient, who: Person, booking_id: str, *, reference: str) -> Response:
    """``who`` pays their hold ``booking_id`` through the channel API; the answer is the
    test's to check."""
    return client.post(
        f"/v1/bookings/{booking_id}/confirm",
        headers=who.headers,
        json={
            "account_id": who.account_id,
            "payment_account": "6222020000001234",
            "payment_reference": reference,
        },
    )
