"""``application/fhir+xml`` beside ``application/fhir+json`` (the IHE Scheduling Server
SHALL support both): ``_format``, ``Accept`` and ``Content-Type`` choose the format of
answers and bodies, the whole find → hold → book → cancel flow runs in XML, refusals
come in the format asked for, and a format the server does not speak is refused with
406 or 415 as an OperationOutcome."""

from __future__ import annotations

import httpx

from factories.fhir_server import (
    XML_HEADERS,
    FhirServer,
    as_xml,
    fhir_server,
    valid,
    valid_xml,
    xml_bytes,
)
from factories.world import RELEASED_DAY, World
from fairslot.fhir.outcome import ERROR_SYSTEM, TRANSLATION

__all__ = ["fhir_server"]

NO_ENTITIES = b"""<?xml version="1.0"?>
<!DOCTYPE Parameters [<!ENTITY secret SYSTEM "file:///etc/hostname">]>
<Parameters xmlns="http://hl7.org/fhir"><parameter><name value="appointment-reference"/>
<valueReference><reference value="Appointment/&secret;"/></valueReference></parameter>
</Parameters>"""


def code_of(outcome: object) -> str:
    (coding,) = outcome.issue[0].details.coding  # type: ignore[attr-defined]
    assert coding.system == ERROR_SYSTEM
    return str(coding.code)


def parameters(*pairs: tuple[str, dict[str, object]]) -> dict[str, object]:
    return {
        "resourceType": "Parameters",
        "parameter": [{"name": name, **value} for name, value in pairs],
    }


def test_the_metadata_comes_in_xml_when_format_or_accept_asks_and_json_otherwise(
    fhir_server: FhirServer,
) -> None:
    with fhir_server.http() as http:
        plain = http.get("/metadata")
        by_format = http.get("/metadata", params={"_format": "xml"})
        by_mime = http.get("/metadata", params={"_format": "application/fhir+xml"})
        by_accept = http.get("/metadata", headers={"Accept": "application/fhir+xml"})
        preferred = http.get(
            "/metadata",
            headers={"Accept": "application/fhir+json;q=0.5, application/fhir+xml"},
        )
        format_wins = http.get(
            "/metadata", params={"_format": "json"}, headers={"Accept": "application/fhir+xml"}
        )
        browser = http.get("/metadata", headers={"Accept": "text/html,*/*;q=0.8"})
        hospital_side = http.get("/hospital/metadata", params={"_format": "xml"})

    assert plain.headers["content-type"].startswith("application/fhir+json")
    as_json = valid(plain.json())
    assert set(as_json.format) == {"json", "xml"}
    for answer in (by_format, by_mime, by_accept, preferred):
        statement = valid_xml(answer)
        assert statement.model_dump(mode="json") == as_json.model_dump(mode="json")
        assert "Accept" in answer.headers["vary"]
    assert format_wins.headers["content-type"].startswith("application/fhir+json")
    assert browser.headers["content-type"].startswith("application/fhir+json")
    assert set(valid_xml(hospital_side).format) == {"json", "xml"}


def test_a_channel_finds_holds_books_and_cancels_in_xml(
    fhir_server: FhirServer, world: World
) -> None:
    session = world.session(capacity=2)
    account, patient = world.patient()
    day = RELEASED_DAY.isoformat()
    h = {**fhir_server.headers(account_id=account.id, device="xml-1"), **XML_HEADERS}
    with fhir_server.http() as http:
        found = http.post(
            "/Appointment/$find",
            content=as_xml(
                parameters(
                    ("start", {"valueDateTime": f"{day}T00:00:00+08:00"}),
                    ("end", {"valueDateTime": f"{day}T23:59:59+08:00"}),
                    (
                        "practitioner",
                        {"valueReference": {"reference": f"Practitioner/{world.doctor.id}"}},
                    ),
                    (
                        "patient-reference",
                        {"valueReference": {"reference": f"Patient/{patient.id}"}},
                    ),
                )
            ),
            headers=h,
        )
        assert found.status_code == 200, found.text
        bundle = valid_xml(found)
        assert bundle.type == "searchset" and bundle.total == 2
        first = bundle.entry[0].resource
        assert first.status == "proposed"
        assert first.slot[0].reference == f"Slot/{world.slots(session)[0].id}"

        held = http.post(
            "/Appointment/$hold",
            content=as_xml(
                parameters(
                    (
                        "appointment-reference",
                        {"valueReference": {"reference": f"Appointment/{first.id}"}},
                    )
                )
            ),
            headers=h,
        )
        assert held.status_code == 200, held.text
        appointment = valid_xml(held).entry[0].resource
        assert appointment.status == "pending"

        booked = http.post(
            "/Appointment/$book",
            content=as_xml(
                parameters(
                    (
                        "appointment-reference",
                        {"valueReference": {"reference": f"Appointment/{appointment.id}"}},
                    ),
                    ("payment-account", {"valueString": "wx-6222020200112233"}),
                    ("payment-reference", {"valueString": "pay-xml-1"}),
                )
            ),
            headers=h,
        )
        assert booked.status_code == 200, booked.text
        assert valid_xml(booked).entry[0].resource.status == "booked"

        read = http.get(f"/Appointment/{appointment.id}", headers=h)
        assert read.status_code == 200, read.text
        current = valid_xml(read)
        current.status = "cancelled"
        cancelled = http.put(
            f"/Appointment/{appointment.id}",
            content=xml_bytes(current),
            headers=h,
        )
        assert cancelled.status_code == 200, cancelled.text
        assert valid_xml(cancelled).status == "cancelled"
        # the JSON API sees the XML client's booking as any other
        as_json = http.get(
            f"{fhir_server.base_url}/v1/bookings/{appointment.id}",
            params={"account_id": account.id},
            headers=fhir_server.headers(device="xml-2"),
        ).json()
        assert as_json["status"] == "cancelled"


def test_a_refusal_comes_in_xml_with_its_code_status_and_both_languages(
    fhir_server: FhirServer, world: World
) -> None:
    session = world.session(capacity=1)
    account, patient = world.patient()
    other_account, other_patient = world.patient()
    slot_id = world.slots(session)[0].id
    with fhir_server.http() as http:

        def hold(account_id: int, patient_id: int, device: str) -> httpx.Response:
            target = f"Appointment/slot-{slot_id}.patient-{patient_id}"
            return http.post(
                "/Appointment/$hold",
                content=as_xml(
                    parameters(("appointment-reference", {"valueReference": {"reference": target}}))
                ),
                headers={
                    **fhir_server.headers(account_id=account_id, device=device),
                    **XML_HEADERS,
                },
            )

        assert hold(account.id, patient.id, "x1").status_code == 200
        taken = hold(other_account.id, other_patient.id, "x2")

    assert taken.status_code == 409
    outcome = valid_xml(taken)
    assert code_of(outcome) == "slot_taken"
    issue = outcome.issue[0]
    assert (issue.severity, issue.code) == ("fatal", "not-found")
    (translation,) = issue.details.text__ext.extension
    assert translation.url == TRANSLATION
    parts = {e.url: e.valueCode or e.valueString for e in translation.extension}
    assert parts["lang"] == "zh-CN" and parts["content"] == issue.diagnostics
    assert "号源" in issue.diagnostics


def test_formats_the_server_does_not_speak_are_refused_as_operation_outcomes(
    fhir_server: FhirServer, world: World
) -> None:
    account, _ = world.patient()
    h = fhir_server.headers(account_id=account.id, device="fmt")
    with fhir_server.http() as http:
        turtle = http.get("/metadata", params={"_format": "ttl"})
        html_only = http.get("/metadata", headers={"Accept": "text/html"})
        refused_xml = http.get("/metadata", headers={"Accept": "application/fhir+xml;q=0"})
        plain_text = http.post(
            "/Appointment/$hold",
            content=b"appointment-reference=x",
            headers={**h, "Content-Type": "text/plain"},
        )
        text_in_xml = http.post(
            "/Appointment/$hold",
            content=b"x",
            headers={**h, "Content-Type": "text/plain", "Accept": "application/fhir+xml"},
        )
        broken = http.post(
            "/Appointment/$hold", content=b"<Parameters", headers={**h, **XML_HEADERS}
        )
        not_fhir = http.post(
            "/Appointment/$hold", content=b"<Parameters/>", headers={**h, **XML_HEADERS}
        )
        entity = http.post("/Appointment/$hold", content=NO_ENTITIES, headers={**h, **XML_HEADERS})
        book_as_text = http.post(
            "/Appointment/$book", content=b"x", headers={**h, "Content-Type": "text/plain"}
        )

    for answer in (turtle, html_only, refused_xml):
        assert answer.status_code == 406, answer.text
        assert code_of(valid(answer.json())) == "fhir_format_unsupported"
    assert plain_text.status_code == 415
    assert code_of(valid(plain_text.json())) == "fhir_media_type_unsupported"
    assert text_in_xml.status_code == 415
    assert code_of(valid_xml(text_in_xml)) == "fhir_media_type_unsupported"
    # ITI-117: whatever fails, a failed $book is an OperationOutcome within a Bundle
    assert book_as_text.status_code == 415
    (only,) = valid(book_as_text.json()).entry
    assert code_of(only.resource) == "fhir_media_type_unsupported"
    for answer in (broken, not_fhir):
        assert answer.status_code == 422, answer.text
        assert code_of(valid_xml(answer)) == "fhir_invalid"
    # an external entity is never read: the reference stays without the file's text
    assert entity.status_code in (404, 422), entity.text
    assert code_of(valid_xml(entity)) != "ok"
    with open("/etc/hostname", encoding="utf-8") as hostname:
        assert hostname.read().strip() not in entity.text
