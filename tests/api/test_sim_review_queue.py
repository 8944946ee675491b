"""The simulated reviewer works a real review queue over the staff API, on SQLite and
PostgreSQL: a flagged ring is confirmed (its identifiers blocked on every channel), a
single weak alert is dismissed, every reason says it was simulated, and the cases are
read back as the scenario identities they were about."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from factories.risk import book_for_patients, device_case, ring_case
from factories.staff import PASSWORD, create_staff
from factories.world import World, make_world
from fairslot.api.app import create_app
from fairslot.patients.models import Patient
from fairslot.sim.afterday import work_queue
from fairslot.sim.generate import build_scenario
from fairslot.sim.modes import Mode
from fairslot.sim.review import REASON_PREFIX
from fairslot.sim.runner import SimulationError
from fairslot.sim.scenario import ScenarioParams
from fairslot.sim.server import LocalPlatform
from fairslot.staff.roles import Role

SCENARIO = build_scenario(ScenarioParams.quick(), seed=7)
BOTS = sorted(k for k, p in SCENARIO.persons.items() if p.klass.value == "grab_bot")


@pytest.fixture
def world(db, platform) -> World:
    return make_world(db, platform)


@pytest.fixture
def client(platform) -> Iterator[TestClient]:
    with TestClient(create_app(platform), raise_server_exceptions=False) as test_client:
        yield test_client


def test_the_simulated_reviewer_confirms_a_ring_dismisses_a_weak_alert_and_empties_the_queue(
    world: World, client: TestClient
) -> None:
    ring_ops = [book_for_patients(world, patients=3), book_for_patients(world, patients=2)]
    ring = ring_case(world, ring_ops)
    weak = device_case(world, book_for_patients(world, patients=1), score=1.0)
    create_staff(world.db, username="sim_reviewer", roles={Role.REVIEWER}, now=world.now())
    # The simulator knows which platform patient each of its identities got.
    patients = {p.id: BOTS[n] for n, p in enumerate(p for op in ring_ops for p in op.patients)}

    seen = work_queue(
        client, username="sim_reviewer", password=PASSWORD, patients=patients, scenario=SCENARIO
    )

    by_case = {c.case_id: c for c in seen}
    assert set(by_case) == {ring.id, weak.id}
    assert by_case[ring.id].confirmed and not by_case[weak.id].confirmed
    assert by_case[ring.id].members == tuple(sorted(BOTS[:5]))
    assert all(c.reason.startswith(REASON_PREFIX) for c in seen)
    assert client.post("/staff/v1/cases/next", headers=_auth(client)).json()["error"] == (
        "queue_empty"
    )
    listed = client.get("/staff/v1/cases", headers=_auth(client)).json()["cases"]
    statuses = {c["case_id"]: (c["status"], c["decision_reason"]) for c in listed}
    assert statuses[ring.id][0] == "confirmed" and statuses[weak.id][0] == "dismissed"
    assert statuses[ring.id][1].startswith("simulated reviewer: confirmed")
    # The ring's device is now refused on every channel.
    held = client.post(
        "/v1/holds",
        json={"account_id": 1, "patient_id": 1, "session_id": 1},
        headers={
            "X-Channel-Key": world.channel_key,
            "X-Device-Id": ring_ops[0].device,
            "X-End-User-IP": "198.51.100.9",
        },
    )
    assert held.status_code == 403 and held.json()["error"] == "request_blocked"


def test_a_reviewer_who_cannot_log_in_stops_the_simulation(client: TestClient) -> None:
    with pytest.raises(SimulationError, match="could not log in"):
        work_queue(client, username="nobody", password="x" * 12, patients={}, scenario=SCENARIO)


def _auth(client: TestClient) -> dict[str, str]:
    token = client.post(
        "/staff/v1/login", json={"username": "sim_reviewer", "password": PASSWORD}
    ).json()["token"]
    return {"Authorization": f"Bearer {token}"}


def test_the_simulator_reads_its_identities_id_hashes_as_the_platform_stores_them(
    world: World, client: TestClient
) -> None:
    """``LocalPlatform.id_hashes`` (the simulator knows the hash key of a platform it
    started) gives the very hash the platform stored when the identity was bound."""
    person = SCENARIO.persons[BOTS[0]]
    headers = {"X-Channel-Key": world.channel_key, "X-Device-Id": "dev-sim"}
    account = client.post("/v1/accounts", json={"phone": person.phone}, headers=headers)
    assert account.status_code == 201, account.text
    bound = client.post(
        f"/v1/accounts/{account.json()['account_id']}/patients",
        json={"name": person.name, "id_number": person.id_number, "phone": person.phone},
        headers=headers,
    )
    assert bound.status_code == 201, bound.text
    stored = world.db.get(Patient, bound.json()["patient_id"])
    assert stored is not None
    platform = LocalPlatform(
        mode=Mode.PROTECTED,
        database_url="sqlite://",
        hospital_keys=(),
        channel_keys={},
        workdir=Path("."),
        hash_key=world.platform.settings.effective_hash_key(),
    )

    assert platform.id_hashes(SCENARIO.persons.values())[stored.id_hash] == BOTS[0]
