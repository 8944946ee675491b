"""Alternatives over HTTP: attached to capacity refusals, and on their own endpoint."""

from __future__ import annotations

import datetime as dt

from fastapi.testclient import TestClient
from sqlalchemy import select

from factories.demand import resident_id
from factories.supply import create_department, create_doctor, create_hospital, import_session
from factories.world import RELEASED_DAY, World
from fairslot.audit.models import RequestRecord

DAY = dt.timedelta(days=1)


def h(world: World) -> dict[str, str]:
    return {"X-Channel-Key": world.channel_key, "X-Device-Id": "imei-7"}


def account_with_patient(client: TestClient, world: World, **person: str) -> tuple[int, int]:
    account = client.post("/v1/accounts", json={"phone": "13800138000"}, headers=h(world))
    assert account.status_code == 201, account.text
    account_id = account.json()["account_id"]
    patient = client.post(
        f"/v1/accounts/{account_id}/patients",
        json={"name": "王芳", "id_number": resident_id(), "phone": "13800138000", **person},
        headers=h(world),
    )
    assert patient.status_code == 201, patient.text
    return account_id, patient.json()["patient_id"]


def hold(client: TestClient, world: World, **body: object):
    return client.post("/v1/holds", headers=h(world), json=body)


def test_a_full_sessions_hold_refusal_carries_alternatives_and_is_still_recorded(
    client: TestClient, world: World, db
) -> None:
    full = world.session(capacity=1)
    same_doctor = world.session(day=RELEASED_DAY + DAY)
    account_id, patient_id = account_with_patient(client, world)
    first = hold(client, world, account_id=account_id, patient_id=patient_id, session_id=full.id)
    assert first.status_code == 201, first.text
    other_account, other_patient = account_with_patient(client, world)

    refused = hold(
        client, world, account_id=other_account, patient_id=other_patient, session_id=full.id
    )

    assert refused.status_code == 409, refused.text
    body = refused.json()
    assert body["error"] == "session_full" and body["detail_zh"]
    assert [a["session_id"] for a in body["alternatives"]] == [same_doctor.id]
    assert body["alternatives"][0]["tier"] == 1
    assert body["alternatives"][0]["reason"] == "same doctor, another day"
    records = db.scalars(
        select(RequestRecord).where(RequestRecord.action == "hold").order_by(RequestRecord.id)
    ).all()
    assert [r.outcome for r in records] == ["ok", "session_full"]
    assert records[-1].account_id == other_account


def test_a_taken_slots_hold_refusal_carries_alternatives(client: TestClient, world: World) -> None:
    wanted = world.session(capacity=2)
    later = world.session(day=RELEASED_DAY + 2 * DAY)
    slot = world.slots(wanted)[0]
    account_id, patient_id = account_with_patient(client, world)
    taken = hold(client, world, account_id=account_id, patient_id=patient_id, slot_id=slot.id)
    assert taken.status_code == 201, taken.text
    other_account, other_patient = account_with_patient(client, world)

    refused = hold(
        client, world, account_id=other_account, patient_id=other_patient, slot_id=slot.id
    )

    assert refused.status_code == 409, refused.text
    assert refused.json()["error"] == "slot_taken"
    assert [a["session_id"] for a in refused.json()["alternatives"]] == [later.id]


def test_other_refusals_carry_no_alternatives(client: TestClient, world: World) -> None:
    session = world.session()
    world.session(day=RELEASED_DAY + DAY)
    account_id, patient_id = account_with_patient(client, world)
    slots = world.slots(session)
    first = hold(client, world, account_id=account_id, patient_id=patient_id, slot_id=slots[0].id)
    assert first.status_code == 201, first.text

    again = hold(client, world, account_id=account_id, patient_id=patient_id, slot_id=slots[1].id)

    assert again.json()["error"] == "duplicate_department_day"
    assert "alternatives" not in again.json()


def test_the_alternatives_endpoint_ranks_what_the_patient_could_book(
    client: TestClient, world: World
) -> None:
    wanted = world.session(capacity=1)
    same_doctor = world.session(day=RELEASED_DAY + 2 * DAY)
    hospital2 = create_hospital(world.db, grade=world.hospital.grade, city=world.hospital.city)
    department2 = create_department(
        world.db, hospital=hospital2, specialty=world.department.specialty
    )
    doctor2 = create_doctor(world.db, hospital=hospital2, department=department2)
    world.db.commit()
    nearby = import_session(
        world.db,
        hospital=hospital2,
        department=department2,
        doctor=doctor2,
        date=RELEASED_DAY,
        now=world.now(),
    )
    world.db.commit()
    account_id, patient_id = account_with_patient(client, world)

    answer = client.get(
        "/v1/alternatives",
        headers=h(world),
        params={
            "session_id": wanted.id,
            "patient_id": patient_id,
            "account_id": account_id,
            "limit": 5,
        },
    )

    assert answer.status_code == 200, answer.text
    assert [(a["session_id"], a["tier"], a["rank"]) for a in answer.json()] == [
        (same_doctor.id, 1, 1),
        (nearby.id, 3, 2),
    ]
    assert answer.json()[1]["hospital_name"] == hospital2.name


def test_the_alternatives_endpoint_wants_the_account_of_a_named_patient(
    client: TestClient, world: World
) -> None:
    wanted = world.session()
    _, patient_id = account_with_patient(client, world)
    stranger, _ = account_with_patient(client, world)

    no_account = client.get(
        "/v1/alternatives",
        headers=h(world),
        params={"session_id": wanted.id, "patient_id": patient_id},
    )
    not_bound = client.get(
        "/v1/alternatives",
        headers=h(world),
        params={"session_id": wanted.id, "patient_id": patient_id, "account_id": stranger},
    )
    no_key = client.get("/v1/alternatives", params={"session_id": wanted.id})

    assert no_account.status_code == 422 and no_account.json()["error"] == "account_required"
    assert not_bound.status_code == 403 and not_bound.json()["error"] == "patient_not_bound"
    assert no_key.status_code == 401
