"""The hospital-side base ``/fhir/hospital``: with its own key a hospital reads every
session of a day as Schedules, released or not; a channel key opens nothing there, and
the channels' base still shows nothing unreleased."""

from __future__ import annotations

from factories.fhir_server import FhirServer, fhir_server, valid
from factories.world import UNRELEASED_DAY, World
from fairslot.hospitals import service as hospitals

__all__ = ["fhir_server"]


def test_a_hospital_reads_its_own_unreleased_schedule_that_channels_cannot_see(
    fhir_server: FhirServer, world: World
) -> None:
    session = world.session(day=UNRELEASED_DAY, capacity=4)
    key = hospitals.rotate_hospital_key(world.db, hospital=world.hospital)
    world.db.commit()
    day = UNRELEASED_DAY.isoformat()

    with fhir_server.http() as http:
        own = http.get("/hospital/Schedule", params={"date": day}, headers={"X-Hospital-Key": key})
        with_channel_key = http.get(
            "/hospital/Schedule", params={"date": day}, headers=fhir_server.headers()
        )
        channel_view = http.get(
            "/Schedule",
            params={"actor": f"HealthcareService/{world.department.id}", "date": day},
            headers=fhir_server.headers(),
        )
        statement = valid(http.get("/hospital/metadata").json())

    bundle = valid(own.json())
    assert own.status_code == 200 and bundle.total == 1
    schedule = bundle.entry[0].resource
    assert schedule.id == str(session.id) and "released at" in schedule.comment
    assert "open 4" in schedule.comment
    refused = valid(with_channel_key.json())
    assert with_channel_key.status_code == 401
    assert refused.issue[0].details.coding[0].code == "hospital_key_missing"
    assert valid(channel_view.json()).total == 0
    assert [r.type for r in statement.rest[0].resource] == ["Schedule"]
