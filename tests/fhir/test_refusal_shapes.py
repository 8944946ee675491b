"""The shapes ITI-116 and ITI-117 give a failed operation, under the JSON API's status:
a failed ``$book`` is a Bundle holding only an OperationOutcome, a failed ``$hold`` the
bare OperationOutcome; and a ``$hold`` refused for lack of capacity carries the JSON
API's ranked alternatives, which the client can ``$hold`` as they stand."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import httpx
from fhirpy.base.exceptions import BaseFHIRError

from factories.fhir_server import FhirServer, fhir_server, valid
from factories.world import RELEASED_DAY, World
from fairslot.fhir.alternatives import ALTERNATIVE_EXTENSION, ALTERNATIVE_SYSTEM
from fairslot.fhir.outcome import ERROR_SYSTEM

__all__ = ["fhir_server"]

DAY = dt.timedelta(days=1)


def reference(name: str, target: str) -> dict[str, Any]:
    return {"name": name, "valueReference": {"reference": target}}


def book_body(booking_id: str, *, paid: bool = True) -> dict[str, Any]:
    parameter = [reference("appointment-reference", f"Appointment/{booking_id}")]
    if paid:
        parameter += [
            {"name": "payment-account", "valueString": "wx-6222020200112233"},
            {"name": "payment-reference", "valueString": "pay-shape-1"},
        ]
    return {"resourceType": "Parameters", "parameter": parameter}


def hold_body(target: str) -> dict[str, Any]:
    return {"resourceType": "Parameters", "parameter": [reference("appointment-reference", target)]}


def bundled_outcome(answer: httpx.Response) -> tuple[int, str]:
    """(status, code) of a failed $book, checked to be a Bundle of one OperationOutcome."""
    bundle = valid(answer.json())
    assert bundle.get_resource_type() == "Bundle" and bundle.type == "collection"
    (entry,) = bundle.entry
    assert entry.resource.get_resource_type() == "OperationOutcome"
    (coding,) = entry.resource.issue[0].details.coding
    assert coding.system == ERROR_SYSTEM
    return answer.status_code, str(coding.code)


def test_a_failed_book_is_an_operation_outcome_within_a_bundle_under_the_json_apis_status(
    fhir_server: FhirServer, world: World
) -> None:
    session = world.session(capacity=2)
    account, patient = world.patient()
    slot_id = world.slots(session)[0].id
    h = fhir_server.headers(account_id=account.id, device="shape-1")
    v1 = fhir_server.headers(device="shape-2")
    confirm = {
        "account_id": account.id,
        "payment_account": "wx-6222020200112233",
        "payment_reference": "pay-shape-1",
    }
    with fhir_server.http() as http:
        held = http.post(
            "/Appointment/$hold",
            json=hold_body(f"Appointment/slot-{slot_id}.patient-{patient.id}"),
            headers=h,
        )
        booking_id = held.json()["entry"][0]["resource"]["id"]
        unpaid = http.post("/Appointment/$book", json=book_body(booking_id, paid=False), headers=h)
        assert http.post("/Appointment/$book", json=book_body(booking_id), headers=h).is_success
        again = http.post("/Appointment/$book", json=book_body(booking_id), headers=h)
        again_v1 = http.post(
            f"{fhir_server.base_url}/v1/bookings/{booking_id}/confirm", json=confirm, headers=v1
        )
        unknown_id = "00000000-0000-0000-0000-000000000000"
        unknown = http.post("/Appointment/$book", json=book_body(unknown_id), headers=h)
        unknown_v1 = http.post(
            f"{fhir_server.base_url}/v1/bookings/{unknown_id}/confirm", json=confirm, headers=v1
        )
        not_parameters = http.post(
            "/Appointment/$book", json={"resourceType": "Patient"}, headers=h
        )
        hold_refused = http.post(
            "/Appointment/$hold",
            json=hold_body(f"Appointment/slot-{unknown_id}.patient-{patient.id}"),
            headers=h,
        )

    assert bundled_outcome(unpaid) == (422, "fhir_parameter_invalid")
    assert bundled_outcome(again) == (again_v1.status_code, again_v1.json()["error"])
    assert bundled_outcome(unknown) == (unknown_v1.status_code, unknown_v1.json()["error"])
    assert bundled_outcome(not_parameters) == (422, "fhir_invalid")
    # ITI-116: a failed $hold is the OperationOutcome itself
    assert valid(hold_refused.json()).get_resource_type() == "OperationOutcome"
    assert hold_refused.status_code == 404


def refusal_of(exc: BaseFHIRError) -> Any:
    resource = getattr(exc, "resource", None)
    return valid(resource if resource else json.loads(str(exc)))


def test_a_hold_refused_for_lack_of_capacity_carries_the_json_apis_alternatives(
    fhir_server: FhirServer, world: World
) -> None:
    full = world.session(capacity=1)
    same_doctor = world.session(day=RELEASED_DAY + DAY, capacity=2)
    first_account, first_patient = world.patient()
    account, patient = world.patient()
    _, relative = world.patient(account=account)
    slot_id = world.slots(full)[0].id
    with fhir_server.http() as http:
        first = http.post(
            "/Appointment/$hold",
            json=hold_body(f"Appointment/slot-{slot_id}.patient-{first_patient.id}"),
            headers=fhir_server.headers(account_id=first_account.id, device="alt-1"),
        )
        assert first.status_code == 200, first.text
        # what /v1/ answers the same refusal with
        as_json = http.post(
            f"{fhir_server.base_url}/v1/holds",
            json={"account_id": account.id, "patient_id": relative.id, "slot_id": slot_id},
            headers=fhir_server.headers(device="alt-2"),
        )
    assert as_json.status_code == 409
    fhir = fhir_server.client(account_id=account.id, device="alt-3")

    try:
        fhir.execute(
            "Appointment/$hold",
            data=hold_body(f"Appointment/slot-{slot_id}.patient-{patient.id}"),
        )
        raise AssertionError("the taken slot was held")
    except BaseFHIRError as exc:
        outcome = refusal_of(exc)

    refused, *offered = outcome.issue
    assert refused.details.coding[0].code == as_json.json()["error"] == "slot_taken"
    assert (refused.severity, refused.code) == ("fatal", "not-found")
    expected = [a["session_id"] for a in as_json.json()["alternatives"]]
    assert expected and expected[0] == same_doctor.id
    targets = [f"session-{sid}.patient-{patient.id}" for sid in expected]
    assert [i.details.coding[0].code for i in offered] == targets
    assert {i.details.coding[0].system for i in offered} == {ALTERNATIVE_SYSTEM}
    assert {(i.severity, i.code) for i in offered} == {("information", "informational")}
    assert [i.extension[0].url for i in offered] == [ALTERNATIVE_EXTENSION] * len(offered)
    assert [i.extension[0].valueReference.reference for i in offered] == [f"#{t}" for t in targets]
    assert all(i.diagnostics and i.details.text for i in offered)  # Chinese and English
    contained = {c.id: c for c in outcome.contained}
    proposal = contained[targets[0]]
    assert proposal.status == "proposed"
    assert proposal.supportingInformation[0].reference == f"Schedule/{same_doctor.id}"
    assert proposal.requestedPeriod[0].start.date() == same_doctor.session_date

    # the alternative is held as it stands: the first free slot of that session
    held = fhir.execute("Appointment/$hold", data=hold_body(f"Appointment/{targets[0]}"))
    appointment = valid(held).entry[0].resource
    assert appointment.status == "pending"
    assert appointment.slot[0].reference == f"Slot/{world.slots(same_doctor)[0].id}"
    assert f"Patient/{patient.id}" in [p.actor.reference for p in appointment.participant]
