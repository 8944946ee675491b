"""Every refusal through ``/fhir/`` is an OperationOutcome carrying the JSON API's
stable code under the JSON API's HTTP status, in English and Chinese; a hold in a
release batch's window answers as ``/v1/holds`` does (202, entered, result later)."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import httpx

from factories.batches import batch_department, open_batch
from factories.fhir_server import FhirServer, fhir_server, valid
from factories.world import RELEASED_DAY, UNRELEASED_DAY, World
from fairslot.fhir.outcome import ERROR_SYSTEM, TRANSLATION

__all__ = ["fhir_server"]


def refusal(response: httpx.Response) -> tuple[int, str, str, str]:
    """(status, code, English, Chinese) of a refused FHIR call, checked for its shape."""
    assert response.headers["content-type"].startswith("application/fhir+json")
    body = response.json()
    outcome = valid(body)
    (issue,) = outcome.issue
    (coding,) = issue.details.coding
    assert coding.system == ERROR_SYSTEM
    (translation,) = body["issue"][0]["details"]["_text"]["extension"]
    assert translation["url"] == TRANSLATION
    parts = {e["url"]: e.get("valueCode") or e.get("valueString") for e in translation["extension"]}
    assert parts["lang"] == "zh-CN" and parts["content"] == issue.diagnostics
    return response.status_code, coding.code, issue.details.text, parts["content"]


def hold_body(target: str) -> dict[str, Any]:
    return {
        "resourceType": "Parameters",
        "parameter": [
            {
                "name": "appointment-reference",
                "valueReference": {"reference": f"Appointment/{target}"},
            }
        ],
    }


def test_refusals_are_operation_outcomes_with_the_json_apis_code_status_and_both_languages(
    fhir_server: FhirServer, world: World
) -> None:
    session = world.session(capacity=1)
    account, patient = world.patient()
    other_account, other_patient = world.patient()
    slot_id = world.slots(session)[0].id
    day = RELEASED_DAY.isoformat()
    with fhir_server.http() as http:
        h = fhir_server.headers(account_id=account.id, device="d1")
        other = fhir_server.headers(account_id=other_account.id, device="d2")
        held = http.post(
            "/Appointment/$hold", json=hold_body(f"slot-{slot_id}.patient-{patient.id}"), headers=h
        )
        booking_id = held.json()["entry"][0]["resource"]["id"]
        cases = {
            "no key": http.get("/Slot", params={"schedule": f"Schedule/{session.id}"}),
            "bad key": http.get("/Organization", headers={"X-Channel-Key": "nope"}),
            "unknown slot": http.get("/Slot/00000000-0000-0000-0000-000000000000", headers=h),
            "no account": http.get(f"/Appointment/{booking_id}", headers=fhir_server.headers()),
            "not yours": http.get(f"/Appointment/{booking_id}", headers=other),
            "taken": http.post(
                "/Appointment/$hold",
                json=hold_body(f"slot-{slot_id}.patient-{other_patient.id}"),
                headers=other,
            ),
            "no start": http.get("/Appointment/$find", params={"end": day}, headers=h),
            "not parameters": http.post(
                "/Appointment/$hold", json={"resourceType": "Patient"}, headers=h
            ),
            "no route": http.get("/Encounter", headers=h),
            "not a cancel": http.put(
                f"/Appointment/{booking_id}",
                json={
                    "resourceType": "Appointment",
                    "status": "booked",
                    "participant": [
                        {"actor": {"reference": f"Patient/{patient.id}"}, "status": "accepted"}
                    ],
                },
                headers=h,
            ),
        }
        json_twins = {
            "no key": http.get(
                f"{fhir_server.base_url}/v1/availability",
                params={"department_id": world.department.id, "date_from": day, "date_to": day},
            ),
            "not yours": http.get(
                f"{fhir_server.base_url}/v1/bookings/{booking_id}",
                params={"account_id": other_account.id},
                headers=other,
            ),
            "taken": http.post(
                f"{fhir_server.base_url}/v1/holds",
                json={
                    "account_id": other_account.id,
                    "patient_id": other_patient.id,
                    "slot_id": slot_id,
                },
                headers=other,
            ),
        }
    seen = {name: refusal(response) for name, response in cases.items()}
    assert {name: (status, code) for name, (status, code, _, _) in seen.items()} == {
        "no key": (401, "channel_key_missing"),
        "bad key": (401, "channel_key_invalid"),
        "unknown slot": (404, "slot_not_found"),
        "no account": (422, "fhir_account_missing"),
        "not yours": (403, "not_your_booking"),
        "taken": (409, "slot_taken"),
        "no start": (422, "fhir_parameter_invalid"),
        "not parameters": (422, "fhir_invalid"),
        "no route": (404, "not_found"),
        "not a cancel": (422, "fhir_update_unsupported"),
    }
    for name, twin in json_twins.items():
        status, code, _, zh = seen[name]
        assert (twin.status_code, twin.json()["error"]) == (status, code)
        assert twin.json()["detail_zh"] == zh
    for _, _, english, zh in seen.values():
        assert english.isascii() and english and zh and not zh.isascii()
    # ITI-116: a slot no longer available is a fatal not-found issue
    taken = valid(cases["taken"].json()).issue[0]
    assert (taken.severity, taken.code) == ("fatal", "not-found")


def test_a_hold_in_a_release_batch_window_answers_entered_with_when_the_result_comes(
    fhir_server: FhirServer, world: World
) -> None:
    department = batch_department(world)
    session = world.session(day=UNRELEASED_DAY, capacity=3, department=department)
    world.platform.clock.set(session.push_at)  # type: ignore[attr-defined]
    batch = open_batch(world, session, rng=random.Random(7))
    account, patient = world.patient()
    world.platform.clock.set(session.release_at + dt.timedelta(seconds=5))  # type: ignore[attr-defined]
    slot_id = world.slots(session)[0].id

    with fhir_server.http() as http:
        answer = http.post(
            "/Appointment/$hold",
            json=hold_body(f"slot-{slot_id}.patient-{patient.id}"),
            headers=fhir_server.headers(account_id=account.id),
        )

    assert answer.status_code == 202, answer.text
    bundle = valid(answer.json())
    (entry,) = bundle.entry
    issue = entry.resource.issue[0]
    assert entry.resource.get_resource_type() == "OperationOutcome"
    assert (issue.severity, issue.details.coding[0].code) == ("information", "release_batch_entry")
    assert (
        f"draw {batch.id}" in issue.details.text and "GET /v1/batch-entries/" in issue.details.text
    )
    assert {s.state.value for s in world.slots(session)} == {"open"}  # nothing was held


def test_the_capability_statement_needs_no_key(fhir_server: FhirServer) -> None:
    with fhir_server.http() as http:
        answer = http.get("/metadata")
    assert answer.status_code == 200 and valid(answer.json()).kind == "instance"


def test_the_rate_limits_apply_to_fhir_as_to_the_json_api(
    fhir_server: FhirServer, world: World
) -> None:
    # FAIRSLOT_RATE_LIMITS' default, per device: 20 a second and 100 a minute, so the
    # 101st call inside a minute is refused however slowly the machine sends them.
    answers: list[httpx.Response] = []
    with fhir_server.http() as http:
        while len(answers) <= 100 and (not answers or answers[-1].status_code == 200):
            answers.append(http.get("/Organization", headers=fhir_server.headers(device="bot")))
    assert [a.status_code for a in answers[:20]] == [200] * 20
    status, code, _, _ = refusal(answers[-1])
    assert (status, code) == (429, "rate_limited") and "Retry-After" in answers[-1].headers


def test_the_json_apis_openapi_document_leaves_fhir_to_its_capability_statement(
    fhir_server: FhirServer,
) -> None:
    with fhir_server.http() as http:
        document = http.get(f"{fhir_server.base_url}/openapi.json").json()
    assert document["paths"] and not [p for p in document["paths"] if p.startswith("/fhir")]
