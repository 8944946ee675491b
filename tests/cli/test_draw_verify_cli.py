"""``fairslot draw verify --from-json``: a draw checked from its published JSON alone.

The draw is made through the API (intents over HTTP, the worker at the release), its
public view saved as a file, and the command pointed at a database that does not exist:
it must not need one.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from factories.supply import create_doctor
from factories.world import UNRELEASED_DAY, World
from fairslot.allocation.states import AllocationMode
from fairslot.cli.main import app
from fairslot.cli.worker_cmd import sweep_once

NO_DATABASE = {"FAIRSLOT_DATABASE_URL": "sqlite:////nonexistent/fairslot/none.db"}


def verify(*args: str) -> Result:
    return CliRunner().invoke(app, ["draw", "verify", *args], env=NO_DATABASE)


@pytest.fixture
def published(world: World, client: TestClient) -> dict[str, Any]:
    """A run draw of six patients for two slots, as ``GET /v1/draws/{id}`` shows it."""
    world.department = world.department_(allocation_mode=AllocationMode.DRAW)
    world.doctor = create_doctor(world.db, hospital=world.hospital, department=world.department)
    session = world.session(day=UNRELEASED_DAY, capacity=2)
    people = [world.patient() for _ in range(6)]
    world.platform.clock.set(session.push_at)
    draw_id = 0
    for n, (account, patient) in enumerate(people):
        made = client.post(
            "/v1/intents",
            headers={"X-Channel-Key": world.channel_key, "X-Device-Id": f"phone-{n}"},
            json={
                "account_id": account.id,
                "patient_id": patient.id,
                "session_id": session.id,
                "payment_account": f"62220200{n:08d}",  # each their own card
                "payment_reference": f"pre-{n}",
            },
        )
        assert made.status_code == 201, made.text
        draw_id = made.json()["draw_id"]
    world.platform.clock.set(session.release_at)
    sweep_once(world.platform)
    view = client.get(f"/v1/draws/{draw_id}", headers={"X-Channel-Key": world.channel_key})
    assert view.status_code == 200 and view.json()["status"] == "drawn", view.text
    return dict(view.json())


def saved(tmp_path: Path, body: dict[str, Any]) -> Path:
    path = tmp_path / "draw.json"
    path.write_text(json.dumps(body), encoding="utf-8")
    return path


def test_a_published_draw_verifies_from_its_json_alone(
    published: dict[str, Any], tmp_path: Path
) -> None:
    path = saved(tmp_path, published)
    shown = verify("--from-json", str(path))
    assert shown.exit_code == 0, shown.output
    assert "6 entries, sha256-fisher-yates-v2" in shown.output
    assert shown.output.strip().endswith("verified")
    as_json = verify(str(published["id"]), "--from-json", str(path), "--json")
    assert as_json.exit_code == 0, as_json.output
    found = json.loads(as_json.output)
    assert found["verified"] is True and found["recomputed"] == published["assignment"]


def test_the_platforms_own_verdict_in_the_file_is_not_trusted(
    published: dict[str, Any], tmp_path: Path
) -> None:
    winner = next(i for i, slot in published["assignment"].items() if slot)
    loser = next(i for i, slot in published["assignment"].items() if slot is None)
    swapped = {**published["assignment"], winner: None, loser: published["assignment"][winner]}
    claimed = {**published, "assignment": swapped, "recomputed": swapped, "verified": True}
    shown = verify("--from-json", str(saved(tmp_path, claimed)), "--json")
    assert shown.exit_code == 1
    found = json.loads(shown.output)
    assert (found["seed_matches_commitment"], found["inputs_match_digest"]) == (True, True)
    assert found["assignment_reproduced"] is False and found["verified"] is False


def test_another_seed_fails_the_commitment_and_says_so(
    published: dict[str, Any], tmp_path: Path
) -> None:
    shown = verify("--from-json", str(saved(tmp_path, {**published, "seed": "cd" * 32})))
    assert shown.exit_code == 1
    assert "seed matches its commitment: NO" in shown.output
    assert "NOT verified" in shown.output


def test_an_entry_left_out_fails_the_inputs_digest(
    published: dict[str, Any], tmp_path: Path
) -> None:
    dropped = published["entries"][0]["intent_id"]
    smaller = {
        **published,
        "entries": published["entries"][1:],
        "assignment": {k: v for k, v in published["assignment"].items() if k != dropped},
    }
    found = json.loads(verify("--from-json", str(saved(tmp_path, smaller)), "--json").output)
    assert found["inputs_match_digest"] is False and found["verified"] is False


def test_a_file_of_another_draw_or_no_draw_at_all_exits_1(
    published: dict[str, Any], tmp_path: Path
) -> None:
    path = saved(tmp_path, published)
    other = verify(str(published["id"] + 1), "--from-json", str(path))
    assert other.exit_code == 1 and "not draw" in other.output
    junk = tmp_path / "junk.json"
    junk.write_text('{"hello": "world"}', encoding="utf-8")
    shown = verify("--from-json", str(junk))
    assert shown.exit_code == 1 and "not a published draw" in shown.output
