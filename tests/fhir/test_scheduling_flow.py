"""A real FHIR client (fhirpy) books through ``/fhir/`` the way IHE ITI Scheduling
describes: $find → $hold → $book → read → find existing → cancel, on SQLite and
PostgreSQL, with every answer parsed by the FHIR models."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fhirpy import SyncFHIRClient
from fhirpy.base.exceptions import BaseFHIRError

from factories.fhir_server import FhirServer, fhir_server, valid
from factories.world import RELEASED_DAY, World

__all__ = ["fhir_server"]  # the fixture, imported for pytest


def find_params(world: World, *, patient_id: int | None = None) -> dict[str, Any]:
    parameter: list[dict[str, Any]] = [
        {"name": "start", "valueDateTime": f"{RELEASED_DAY.isoformat()}T00:00:00+08:00"},
        {"name": "end", "valueDateTime": f"{RELEASED_DAY.isoformat()}T23:59:59+08:00"},
        {
            "name": "organization",
            "valueReference": {"reference": f"Organization/{world.hospital.id}"},
        },
        {"name": "specialty", "valueString": world.department.specialty},
    ]
    if patient_id is not None:
        parameter.append(
            {"name": "patient-reference", "valueReference": {"reference": f"Patient/{patient_id}"}}
        )
    return {"resourceType": "Parameters", "parameter": parameter}


def hold_params(appointment_id: str) -> dict[str, Any]:
    return {
        "resourceType": "Parameters",
        "parameter": [
            {
                "name": "appointment-reference",
                "valueReference": {"reference": f"Appointment/{appointment_id}"},
            }
        ],
    }


def book_params(booking_id: str) -> dict[str, Any]:
    return {
        "resourceType": "Parameters",
        "parameter": [
            {
                "name": "appointment-reference",
                "valueReference": {"reference": f"Appointment/{booking_id}"},
            },
            {"name": "payment-account", "valueString": "wx-6222020200112233"},
            {"name": "payment-reference", "valueString": "pay-0001"},
        ],
    }


def refusal_of(exc: BaseFHIRError) -> Any:
    """The OperationOutcome a refused call carried, parsed by the model (fhirpy keeps the
    parsed resource for some statuses and the raw body for 401/403/404)."""
    resource = getattr(exc, "resource", None)
    return valid(resource if resource else json.loads(str(exc)))


def entries(bundle: Any, kind: str) -> list[Any]:
    return [e["resource"] for e in bundle.get("entry", []) if e["resource"]["resourceType"] == kind]


def test_a_channel_finds_holds_books_and_cancels_an_appointment_through_fhir(
    fhir_server: FhirServer, world: World
) -> None:
    session = world.session(capacity=3)
    account, patient = world.patient()
    fhir = fhir_server.client(account_id=account.id)

    found = valid(fhir.execute("Appointment/$find", data=find_params(world, patient_id=patient.id)))
    proposed = [e.resource for e in found.entry]
    assert found.type == "searchset" and found.total == 3
    assert {a.status for a in proposed} == {"proposed"}
    first = proposed[0]
    assert first.slot[0].reference == f"Slot/{world.slots(session)[0].id}"

    held_bundle = fhir.execute("Appointment/$hold", data=hold_params(first.id))
    valid(held_bundle)
    held = entries(held_bundle, "Appointment")
    assert len(held) == 1 and held[0]["status"] == "pending"
    booking_id = held[0]["id"]
    again = valid(fhir.execute("Appointment/$find", data=find_params(world, patient_id=patient.id)))
    assert again.total == 2  # ITI-115: a held slot is never proposed

    booked_bundle = fhir.execute("Appointment/$book", data=book_params(booking_id))
    valid(booked_bundle)
    booked = entries(booked_bundle, "Appointment")
    assert [b["status"] for b in booked] == ["booked"]

    read = fhir.reference("Appointment", booking_id).to_resource()
    valid(read.serialize())
    assert read["status"] == "booked"
    assert f"Patient/{patient.id}" in [p["actor"].reference for p in read["participant"]]
    # ITI-118: an identifier system the server cannot process finds nothing (not all)
    by_identifier = fhir.resources("Appointment").search(
        **{"patient.identifier": "urn:oid:1.2.156|110101198503140012"}
    )
    assert by_identifier.fetch_raw()["total"] == 0
    mine = (
        fhir.resources("Appointment")
        .search(patient=f"Patient/{patient.id}", status="booked")
        .fetch_all()
    )
    assert [a["id"] for a in mine] == [booking_id]

    read["status"] = "cancelled"
    read.save()  # the standard update interaction (PUT)
    after = fhir.reference("Appointment", booking_id).to_resource()
    assert after["status"] == "cancelled"
    # the JSON API sees the same booking the same way: one pool, one set of rules
    with fhir_server.http() as http:
        as_json = http.get(
            f"{fhir_server.base_url}/v1/bookings/{booking_id}",
            params={"account_id": account.id},
            headers=fhir_server.headers(),
        ).json()
    assert as_json["status"] == "cancelled"


def test_a_patient_not_bound_to_the_account_cannot_be_booked(
    fhir_server: FhirServer, world: World
) -> None:
    world.session(capacity=2)
    account, _ = world.patient()
    _, strangers_patient = world.patient()  # bound to another account
    fhir = fhir_server.client(account_id=account.id)
    proposed = fhir.execute(
        "Appointment/$find", data=find_params(world, patient_id=strangers_patient.id)
    )
    target = proposed["entry"][0]["resource"]["id"]

    with pytest.raises(BaseFHIRError) as refused:
        fhir.execute("Appointment/$hold", data=hold_params(target))
    issue = refusal_of(refused.value).issue[0]
    with fhir_server.http() as http:
        as_json = http.post(
            f"{fhir_server.base_url}/v1/holds",
            json={
                "account_id": account.id,
                "patient_id": strangers_patient.id,
                "slot_id": target.removeprefix("slot-").split(".")[0],
            },
            headers=fhir_server.headers(),
        )
    assert issue.details.coding[0].code == as_json.json()["error"]
    assert as_json.status_code >= 400
    assert fhir.execute("Appointment/$find", data=find_params(world))["total"] == 2  # nothing held


def test_a_blacklisted_phone_is_refused_through_fhir_as_through_json(
    fhir_server: FhirServer, world: World
) -> None:
    from fairslot.blacklist import service as blacklist
    from fairslot.blacklist.models import Scope
    from fairslot.staff.audit import cli_actor

    world.session(capacity=2)
    account, patient = world.patient()
    from factories.demand import create_patient

    world.db.commit()
    blocked = create_patient(world.db, world.platform, account=account, phone="13900004444")
    blacklist.block(
        world.db,
        scope=Scope.PHONE,
        value="13900004444",
        reason="confirmed scalper",
        actor=cli_actor("it"),
        now=world.now(),
        protector=world.platform.protector,
    )
    world.db.commit()
    fhir = fhir_server.client(account_id=account.id)
    target = fhir.execute("Appointment/$find", data=find_params(world, patient_id=blocked.id))[
        "entry"
    ][0]["resource"]["id"]

    with pytest.raises(BaseFHIRError) as refused:
        fhir.execute("Appointment/$hold", data=hold_params(target))
    outcome = refusal_of(refused.value)
    with fhir_server.http() as http:
        as_json = http.post(
            f"{fhir_server.base_url}/v1/holds",
            json={
                "account_id": account.id,
                "patient_id": blocked.id,
                "session_id": world.sessions[0].id,
            },
            headers=fhir_server.headers(),
        )
    assert as_json.status_code == 403
    assert outcome.issue[0].details.coding[0].code == as_json.json()["error"] == "request_blocked"
    # the same account may still book its unblocked patient
    ok = fhir.execute("Appointment/$find", data=find_params(world, patient_id=patient.id))
    assert entries(
        fhir.execute("Appointment/$hold", data=hold_params(ok["entry"][0]["resource"]["id"])),
        "Appointment",
    )


def test_a_search_pages_through_every_slot_once(fhir_server: FhirServer, world: World) -> None:
    session = world.session(capacity=5)
    fhir: SyncFHIRClient = fhir_server.client()
    first_page = (
        fhir.resources("Slot").search(schedule=f"Schedule/{session.id}").limit(2).fetch_raw()
    )
    valid(first_page.serialize() if hasattr(first_page, "serialize") else first_page)
    assert first_page["total"] == 5 and len(first_page["entry"]) == 2
    assert [link["relation"] for link in first_page["link"]] == ["self", "next"]
    every = fhir.resources("Slot").search(schedule=f"Schedule/{session.id}").limit(2).fetch_all()
    assert sorted(s["id"] for s in every) == sorted(s.id for s in world.slots(session))
    assert {s["status"] for s in every} == {"free"}


def test_book_with_a_cancelled_appointment_resource_cancels_the_hold(
    fhir_server: FhirServer, world: World
) -> None:
    """ITI-117 also cancels: $book given the appointment back with status cancelled."""
    world.session(capacity=2)
    account, patient = world.patient()
    fhir = fhir_server.client(account_id=account.id)
    found = fhir.execute("Appointment/$find", data=find_params(world, patient_id=patient.id))
    held = fhir.execute("Appointment/$hold", data=hold_params(found["entry"][0]["resource"]["id"]))
    appointment = dict(entries(held, "Appointment")[0])

    answer = fhir.execute(
        "Appointment/$book",
        data={
            "resourceType": "Parameters",
            "parameter": [
                {"name": "appointment-resource", "resource": {**appointment, "status": "cancelled"}}
            ],
        },
    )

    valid(answer)
    assert [a["status"] for a in entries(answer, "Appointment")] == ["cancelled"]
    assert fhir.reference("Appointment", appointment["id"]).to_resource()["status"] == "cancelled"
