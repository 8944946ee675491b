"""The CapabilityStatement says what the server really answers: every declared
interaction, search parameter and operation is called against the running server and
answers as declared (and a method it does not declare is refused)."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable
from typing import Any

import httpx

from factories.fhir_server import XML_HEADERS, FhirServer, fhir_server, valid, valid_xml, xml_bytes
from factories.world import RELEASED_DAY, World
from fairslot.fhir.capability import IHE_SERVER

__all__ = ["fhir_server"]

PACE = dt.timedelta(milliseconds=750)


def sample_values(world: World, *, session_id: int, patient_id: int) -> dict[tuple[str, str], str]:
    """A value for every declared search parameter (the test fails on one without)."""
    day = RELEASED_DAY.isoformat()
    return {
        ("Organization", "_id"): str(world.hospital.id),
        ("Organization", "address-city"): world.hospital.city,
        ("HealthcareService", "organization"): f"Organization/{world.hospital.id}",
        ("HealthcareService", "specialty"): world.department.specialty,
        ("HealthcareService", "_id"): str(world.department.id),
        ("Practitioner", "_id"): str(world.doctor.id),
        ("PractitionerRole", "service"): f"HealthcareService/{world.department.id}",
        ("PractitionerRole", "practitioner"): f"Practitioner/{world.doctor.id}",
        ("PractitionerRole", "role"): world.doctor.title.value,
        ("Schedule", "actor"): f"HealthcareService/{world.department.id}",
        ("Schedule", "date"): day,
        ("Slot", "schedule"): f"Schedule/{session_id}",
        ("Slot", "status"): "free",
        ("Appointment", "patient"): f"Patient/{patient_id}",
        ("Appointment", "date"): f"ge{day}",
        ("Appointment", "status"): "pending",
    }


# What a search needs beside the parameter under test (the documented required ones).
def required(kind: str, values: dict[tuple[str, str], str]) -> dict[str, str]:
    needs = {
        "HealthcareService": ["organization"],
        "PractitionerRole": ["service"],
        "Schedule": ["actor", "date"],
        "Slot": ["schedule"],
    }
    return {name: values[(kind, name)] for name in needs.get(kind, [])}


def test_every_declared_interaction_and_operation_answers_as_declared(
    fhir_server: FhirServer, world: World
) -> None:
    session = world.session(capacity=3)
    account, patient = world.patient()
    _, relative = world.patient(account=account)  # one hold per patient and session
    devices = itertools.count()

    def headers() -> dict[str, str]:
        # One account walks at a steady pace on the test's clock, under its limits (20 a
        # second, 100 a minute: the rate limits apply to FHIR as to /v1/), and well inside
        # its holds' 5 minutes; a device of its own per call keeps the device limit out of it.
        world.platform.clock.advance(PACE)
        return fhir_server.headers(account_id=account.id, device=f"walk-{next(devices)}")

    with fhir_server.http() as http:
        statement = http.get("/metadata")
        assert statement.headers["content-type"].startswith("application/fhir+json")
        capability = valid(statement.json())
        assert capability.instantiates == [IHE_SERVER] and capability.fhirVersion == "4.0.1"
        # every declared format is spoken: each call below is made in each of them
        assert set(capability.format) == {"json", "xml"}
        as_xml = http.get("/metadata", headers={"Accept": "application/fhir+xml"})
        assert valid_xml(as_xml).model_dump() == capability.model_dump()
        # an Appointment to read, search and update: held through the declared $hold
        answers = _operations(http, headers, world, patient_id=patient.id, other_id=relative.id)
        booking_id = answers["hold"]["entry"][0]["resource"]["id"]
        ids = {
            "Organization": str(world.hospital.id),
            "HealthcareService": str(world.department.id),
            "Practitioner": str(world.doctor.id),
            "PractitionerRole": str(world.doctor.id),
            "Schedule": str(session.id),
            "Slot": world.slots(session)[-1].id,
            "Appointment": booking_id,
        }
        values = sample_values(world, session_id=session.id, patient_id=patient.id)
        declared_params = set()
        (rest,) = capability.rest
        for resource in rest.resource:
            kind = resource.type
            codes = {i.code for i in resource.interaction}
            if "read" in codes:
                read = http.get(f"/{kind}/{ids[kind]}", headers=headers())
                assert read.status_code == 200, (kind, read.text)
                assert valid(read.json()).id == ids[kind]
                read_xml = http.get(f"/{kind}/{ids[kind]}?_format=xml", headers=headers())
                assert valid_xml(read_xml).id == ids[kind], (kind, read_xml.text)
            if "search-type" in codes:
                for param in resource.searchParam:
                    if param.name in ("_count", "_offset"):
                        continue
                    declared_params.add((kind, param.name))
                    query = {**required(kind, values), param.name: values[(kind, param.name)]}
                    found = http.get(f"/{kind}", params=query, headers=headers())
                    assert found.status_code == 200, (kind, param.name, found.text)
                    bundle = valid(found.json())
                    assert bundle.type == "searchset" and bundle.total >= 1, (kind, param.name)
                    assert ids[kind] in [e.resource.id for e in bundle.entry]
                    posted = http.post(f"/{kind}/_search", data=query, headers=headers())
                    assert posted.status_code == 200, (kind, param.name, posted.text)
                    assert posted.json()["total"] == bundle.total  # POST search = GET search
                    in_xml = http.post(
                        f"/{kind}/_search",
                        data=query,
                        headers={**headers(), "Accept": "application/fhir+xml"},
                    )
                    assert valid_xml(in_xml).total == bundle.total, (kind, param.name)
                    paged = http.get(f"/{kind}", params={**query, "_count": 1}, headers=headers())
                    assert len(paged.json().get("entry", [])) == 1, (kind, param.name, paged.text)
            for include in resource.searchInclude or []:
                query = {values_key: values[(kind, values_key)] for values_key in ("status",)}
                included = http.get(
                    f"/{kind}", params={**query, "_include": include}, headers=headers()
                )
                assert included.status_code == 200, (include, included.text)
                modes = [e.search.mode for e in valid(included.json()).entry]
                assert "match" in modes and "include" in modes, include
            if "update" in codes:
                # the update in XML, both ways
                appointment = valid_xml(
                    http.get(f"/{kind}/{ids[kind]}", headers={**headers(), **XML_HEADERS})
                )
                appointment.status = "cancelled"
                updated = http.put(
                    f"/{kind}/{ids[kind]}",
                    content=xml_bytes(appointment),
                    headers={**headers(), **XML_HEADERS},
                )
                assert updated.status_code == 200 and valid_xml(updated).status == "cancelled"
            else:
                refused = http.put(
                    f"/{kind}/{ids[kind]}", json={"resourceType": kind}, headers=headers()
                )
                assert refused.status_code == 405
            for operation in resource.operation or []:
                assert operation.name in answers, operation.name
            assert http.delete(f"/{kind}/{ids[kind]}", headers=headers()).status_code == 405
        assert declared_params == set(values)  # every declared parameter was called


def _operations(
    http: httpx.Client,
    headers: Callable[[], dict[str, str]],
    world: World,
    *,
    patient_id: int,
    other_id: int,
) -> dict[str, Any]:
    day = RELEASED_DAY.isoformat()
    found = http.get(
        "/Appointment/$find",
        params={
            "start": day,
            "end": day,
            "practitioner": f"Practitioner/{world.doctor.id}",
            "patient-reference": f"Patient/{patient_id}",
        },
        headers=headers(),
    )
    assert found.status_code == 200, found.text
    target = valid(found.json()).entry[0].resource.id
    found_xml = http.get(
        "/Appointment/$find",
        params={**dict(found.request.url.params), "_format": "xml"},
        headers=headers(),
    )
    assert valid_xml(found_xml).model_dump() == valid(found.json()).model_dump() | {
        "link": valid_xml(found_xml).model_dump()["link"]  # the self link names _format
    }
    held = http.post(
        "/Appointment/$hold",
        json={
            "resourceType": "Parameters",
            "parameter": [
                {
                    "name": "appointment-reference",
                    "valueReference": {"reference": f"Appointment/{target}"},
                }
            ],
        },
        headers=headers(),
    )
    assert held.status_code == 200, held.text
    valid(held.json())
    # $book on a second hold, so that the first stays to be read, searched and cancelled
    second = valid(found.json()).entry[1].resource.id
    other = http.post(
        "/Appointment/$hold",
        json={
            "resourceType": "Parameters",
            "parameter": [
                {
                    "name": "appointment-reference",
                    "valueReference": {"reference": f"Appointment/{second}"},
                },
                {
                    "name": "patient-reference",
                    "valueReference": {"reference": f"Patient/{other_id}"},
                },
            ],
        },
        headers=headers(),
    ).json()["entry"][0]["resource"]["id"]
    booked = http.post(
        "/Appointment/$book",
        json={
            "resourceType": "Parameters",
            "parameter": [
                {
                    "name": "appointment-reference",
                    "valueReference": {"reference": f"Appointment/{other}"},
                },
                {"name": "payment-account", "valueString": "alipay-1380000"},
                {"name": "payment-reference", "valueString": "ref-77"},
            ],
        },
        headers=headers(),
    )
    assert booked.status_code == 200, booked.text
    assert valid(booked.json()).entry[0].resource.status == "booked"
    return {"find": found.json(), "hold": held.json(), "book": booked.json()}
