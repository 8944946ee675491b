"""The release gate and the draws hold through ``/fhir/`` as through ``/v1/``: nothing
of a session exists a second before its release; a draw-mode department answers with
how to enter its draw instead of proposing appointments."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx

from factories.fhir_server import FhirServer, fhir_server, valid
from factories.world import UNRELEASED_DAY, World
from fairslot.allocation.states import AllocationMode

__all__ = ["fhir_server"]


def find(
    http: httpx.Client, server: FhirServer, world: World, *, day: dt.date, **extra: Any
) -> Any:
    params = {
        "start": day.isoformat(),
        "end": day.isoformat(),
        "organization": f"Organization/{world.hospital.id}",
        **extra,
    }
    response = http.get("/Appointment/$find", params=params, headers=server.headers())
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/fhir+json")
    return valid(response.json())


def test_nothing_unreleased_is_visible_through_fhir_one_second_before_release(
    fhir_server: FhirServer, world: World
) -> None:
    session = world.session(day=UNRELEASED_DAY, capacity=2)
    slot_id = world.slots(session)[0].id
    headers = fhir_server.headers()
    world.platform.clock.set(session.release_at - dt.timedelta(seconds=1))  # type: ignore[attr-defined]

    def seen(http: httpx.Client) -> dict[str, Any]:
        schedules = http.get(
            "/Schedule",
            params={
                "actor": f"HealthcareService/{world.department.id}",
                "date": UNRELEASED_DAY.isoformat(),
            },
            headers=headers,
        )
        slots = http.get("/Slot", params={"schedule": f"Schedule/{session.id}"}, headers=headers)
        for response in (schedules, slots):
            valid(response.json())
        return {
            "schedules": schedules.json()["total"],
            "slots": slots.json()["total"],
            "schedule": http.get(f"/Schedule/{session.id}", headers=headers).status_code,
            "slot": http.get(f"/Slot/{slot_id}", headers=headers).status_code,
            "found": find(http, fhir_server, world, day=UNRELEASED_DAY).total,
        }

    with fhir_server.http() as http:
        before = seen(http)
        not_found = http.get(f"/Slot/{slot_id}", headers=headers).json()
        world.platform.clock.set(session.release_at)  # type: ignore[attr-defined]
        after = seen(http)

    assert before == {"schedules": 0, "slots": 0, "schedule": 404, "slot": 404, "found": 0}
    assert valid(not_found).issue[0].details.coding[0].code == "slot_not_found"
    assert after == {"schedules": 1, "slots": 2, "schedule": 200, "slot": 200, "found": 2}


def test_a_draw_mode_department_answers_how_to_enter_its_draw(
    fhir_server: FhirServer, world: World
) -> None:
    expert = world.department_(
        code="EXPERT", specialty="expert", allocation_mode=AllocationMode.DRAW
    )
    session = world.session(day=UNRELEASED_DAY, department=expert, capacity=3)

    with fhir_server.http() as http:
        answer = find(http, fhir_server, world, day=UNRELEASED_DAY, specialty="expert")

    notes = [e.resource for e in answer.entry or [] if e.search.mode == "outcome"]
    assert answer.total == 0 and len(notes) == 1
    issue = notes[0].issue[0]
    assert issue.severity == "information" and issue.details.coding[0].code == "draw_mode"
    assert "POST /v1/intents" in issue.details.text and str(session.id) in issue.details.text
    assert "抽签" in issue.diagnostics
