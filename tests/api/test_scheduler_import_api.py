"""Schedulers import a schedule on a hospital's behalf through the staff API — a preview
first (nothing written), then the import (audited) — see a withdrawal's effect before
making it, and list sessions over a range of dates."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from factories.staff import signed_in
from factories.world import RELEASED_DAY, UNRELEASED_DAY, World
from fairslot.schedules.models import ClinicSession
from fairslot.staff.models import StaffAction
from fairslot.staff.roles import Role


@pytest.fixture
def scheduler(world: World, client: TestClient) -> dict[str, str]:
    return signed_in(client, world.db, username="zhao", roles={Role.SCHEDULER}, now=world.now())


def _document(world: World, *, capacity: int = 6) -> dict[str, object]:
    return {
        "hospital": world.hospital.code,
        "sessions": [
            {
                "session_id": "API-1",
                "department": world.department.code,
                "doctor": world.doctor.code,
                "date": UNRELEASED_DAY.isoformat(),
                "period": "pm",
                "start": "14:00",
                "end": "17:00",
                "fee": "30.00",
                "capacity": capacity,
            }
        ],
    }


def _sessions(world: World) -> int:
    world.db.commit()
    return int(world.db.scalar(select(func.count()).select_from(ClinicSession)) or 0)


def test_a_preview_writes_nothing_and_the_import_is_audited(
    world: World, client: TestClient, scheduler: dict[str, str]
) -> None:
    base = f"/staff/v1/hospitals/{world.hospital.code}/schedule"
    before = _sessions(world)
    seen = client.post(f"{base}/preview", json=_document(world), headers=scheduler)
    assert seen.status_code == 200, seen.text
    assert (seen.json()["created"], seen.json()["slots_added"]) == (1, 6)
    assert seen.json()["sessions"][0]["where"] == "sessions[0]"
    assert _sessions(world) == before

    done = client.post(base, json=_document(world), headers=scheduler)
    assert done.status_code == 200, done.text
    assert done.json()["created"] == 1
    assert _sessions(world) == before + 1
    row = world.db.scalars(select(StaffAction).where(StaffAction.action == "schedule.import")).one()
    assert (row.actor, row.target_id, row.data["created"], row.data["via"]) == (
        "zhao",
        world.hospital.code,
        1,
        "api",
    )


def test_a_csv_push_is_read_by_its_content_type_and_bad_rows_are_named(
    world: World, client: TestClient, scheduler: dict[str, str]
) -> None:
    header = "hospital,session_id,department,doctor,date,period,start,end,fee,capacity"
    line = (
        f"{world.hospital.code},C-1,{world.department.code},{world.doctor.code},"
        f"{UNRELEASED_DAY},am,08:00,12:00,20,999"
    )
    response = client.post(
        f"/staff/v1/hospitals/{world.hospital.code}/schedule/preview",
        content=f"{header}\n{line}\n".encode("gb18030"),
        headers={**scheduler, "Content-Type": "text/csv; charset=GB18030"},
    )
    assert response.status_code == 422
    assert response.json()["problems"][0]["location"] == "line 2: capacity"


def test_another_role_cannot_import(world: World, client: TestClient) -> None:
    reviewer = signed_in(client, world.db, username="wang", roles={Role.REVIEWER}, now=world.now())
    response = client.post(
        f"/staff/v1/hospitals/{world.hospital.code}/schedule",
        content=json.dumps(_document(world)),
        headers={**reviewer, "Content-Type": "application/json"},
    )
    assert response.status_code == 403


def test_a_withdrawal_is_previewed_with_the_bookings_it_would_end(
    world: World, client: TestClient, scheduler: dict[str, str]
) -> None:
    session = world.session(capacity=3)
    url = f"/staff/v1/hospitals/{world.hospital.code}/sessions/{session.his_session_id}"
    seen = client.get(f"{url}/withdrawal", headers=scheduler)
    assert seen.status_code == 200, seen.text
    assert seen.json()["slots_withdrawn"] == 3
    assert seen.json()["bookings_withdrawn"] == 0
    assert seen.json()["already_withdrawn"] is False
    missing = client.get(f"{url}-nope/withdrawal", headers=scheduler)
    assert missing.status_code == 404


def test_sessions_are_listed_over_a_range_of_dates(
    world: World, client: TestClient, scheduler: dict[str, str]
) -> None:
    first = world.session(day=RELEASED_DAY)
    later = world.session(day=RELEASED_DAY + timedelta(days=2))
    outside = world.session(day=RELEASED_DAY + timedelta(days=5))
    response = client.get(
        f"/staff/v1/hospitals/{world.hospital.code}/sessions",
        params={"date": RELEASED_DAY.isoformat(), "until": (RELEASED_DAY + timedelta(days=2))},
        headers=scheduler,
    )
    assert response.status_code == 200, response.text
    ids = [s["session_id"] for s in response.json()]
    assert ids == [first.his_session_id, later.his_session_id]
    assert outside.his_session_id not in ids
