"""Schedulers withdraw sessions and change release policies through the staff API; each
action needs the scheduler role and is audited with its reason."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from factories.staff import create_staff, login, signed_in
from factories.world import World
from fairslot.schedules.models import ClinicSession
from fairslot.schedules.states import SessionStatus
from fairslot.staff.models import StaffAction
from fairslot.staff.roles import Role


@pytest.fixture
def scheduler(world: World, client: TestClient) -> dict[str, str]:
    return signed_in(client, world.db, username="zhao", roles={Role.SCHEDULER}, now=world.now())


def test_a_scheduler_withdraws_a_session_and_the_action_is_audited(
    world: World, client: TestClient, scheduler: dict[str, str]
) -> None:
    session = world.session()
    url = f"/staff/v1/hospitals/{world.hospital.code}/sessions/{session.his_session_id}/withdraw"
    response = client.post(url, json={"reason": "doctor ill"}, headers=scheduler)
    assert response.status_code == 200, response.text
    assert response.json()["slots_withdrawn"] == 5
    world.db.expire_all()
    assert world.db.get(ClinicSession, session.id).status == SessionStatus.WITHDRAWN
    row = world.db.scalars(
        select(StaffAction).where(StaffAction.action == "session.withdraw")
    ).one()
    assert (row.actor, row.reason) == ("zhao", "doctor ill")
    assert row.target_id == f"{world.hospital.code}/{session.his_session_id}"


def test_a_policy_change_records_before_and_after(
    world: World, client: TestClient, scheduler: dict[str, str]
) -> None:
    response = client.post(
        f"/staff/v1/hospitals/{world.hospital.code}/policy",
        json={"release_time": "08:00", "reason": "the hospital moved its release"},
        headers=scheduler,
    )
    assert response.status_code == 200, response.text
    assert response.json()["hospital"]["release_time"] == "08:00:00"
    row = world.db.scalars(select(StaffAction).where(StaffAction.action == "hospital.policy")).one()
    assert row.data["before"]["release_time"] == "00:30:00"
    assert row.data["after"]["release_time"] == "08:00:00"


def test_the_sessions_of_a_day_are_listed_for_a_scheduler(
    world: World, client: TestClient, scheduler: dict[str, str]
) -> None:
    session = world.session()
    response = client.get(
        f"/staff/v1/hospitals/{world.hospital.code}/sessions",
        params={"date": session.session_date.isoformat()},
        headers=scheduler,
    )
    assert response.status_code == 200
    assert [s["session_id"] for s in response.json()] == [session.his_session_id]


def test_scheduling_needs_the_scheduler_role(world: World, client: TestClient) -> None:
    create_staff(world.db, username="qian", roles={Role.REVIEWER}, now=world.now())
    url = f"/staff/v1/hospitals/{world.hospital.code}/policy"
    body = {"release_time": "08:00", "reason": "r"}
    assert client.post(url, json=body).status_code == 401
    refused = client.post(url, json=body, headers=login(client, "qian"))
    assert refused.status_code == 403
    assert refused.json()["error"] == "role_required"


def test_an_unknown_hospital_or_session_is_a_404(
    world: World, client: TestClient, scheduler: dict[str, str]
) -> None:
    missing = client.get("/staff/v1/hospitals/NOPE/sessions", headers=scheduler)
    assert missing.status_code == 404
    url = f"/staff/v1/hospitals/{world.hospital.code}/sessions/S-404/withdraw"
    assert client.post(url, json={"reason": "x"}, headers=scheduler).status_code == 404
    blank = client.post(url, json={"reason": ""}, headers=scheduler)
    assert blank.status_code == 422
