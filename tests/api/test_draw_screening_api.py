"""A screened draw over HTTP: a held entry reads "under review" (Chinese and English) and
nothing of what was detected; the published draw lists it as held out, and
``fairslot draw verify --from-json`` checks the walk skipped exactly those entries."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from factories.supply import create_doctor
from factories.world import UNRELEASED_DAY, World
from fairslot.allocation import screening
from fairslot.allocation.states import AllocationMode
from fairslot.cli.main import app
from fairslot.cli.worker_cmd import sweep_once
from fairslot.schedules.models import ClinicSession

NO_DATABASE = {"FAIRSLOT_DATABASE_URL": "sqlite:////nonexistent/fairslot/none.db"}
DETECTED = sorted(screening.DECISIVE | screening.SUPPORTING | screening.RING_REASONS)


def enter(
    client: TestClient,
    world: World,
    session: ClinicSession,
    *,
    device: str,
    ip: str,
    payment: str,
) -> dict[str, Any]:
    # At a person's pace: the real-time gate stops a phone that fires intents in a burst.
    world.platform.clock.advance(dt.timedelta(minutes=3))
    account, patient = world.patient()
    made = client.post(
        "/v1/intents",
        headers={
            "X-Channel-Key": world.channel_key,
            "X-Device-Id": device,
            "X-End-User-IP": ip,
        },
        json={
            "account_id": account.id,
            "patient_id": patient.id,
            "session_id": session.id,
            "payment_account": payment,
            "payment_reference": f"pre-{patient.id}",
        },
    )
    assert made.status_code == 201, made.text
    return dict(made.json())


@pytest.fixture
def screened(world: World, client: TestClient) -> dict[str, Any]:
    """A ring of six (fresh phones, one payment account, one address) and two honest
    entrants."""
    world.department = world.department_(allocation_mode=AllocationMode.DRAW)
    world.doctor = create_doctor(world.db, hospital=world.hospital, department=world.department)
    session = world.session(day=UNRELEASED_DAY, capacity=2)
    world.platform.clock.set(session.push_at)
    ring = [
        enter(
            client,
            world,
            session,
            device=f"fresh-phone-{n}",  # the gate stops one phone for many accounts
            ip="198.51.100.7",
            payment="6222020000009999",
        )
        for n in range(6)
    ]
    honest = [
        enter(client, world, session, device=f"own-{n}", ip=f"203.0.113.{n}", payment=f"62220{n}")
        for n in range(2)
    ]
    sweep_once(world.platform)  # the worker screens during the window
    return {"session": session, "ring": ring, "honest": honest}


def read(client: TestClient, world: World, intent: dict[str, Any]) -> dict[str, Any]:
    shown = client.get(
        f"/v1/intents/{intent['id']}",
        headers={"X-Channel-Key": world.channel_key},
        params={"account_id": intent["account_id"]},
    )
    assert shown.status_code == 200, shown.text
    return dict(shown.json())


def test_a_held_entry_reads_under_review_and_nothing_of_what_was_detected(
    world: World, client: TestClient, screened: dict[str, Any]
) -> None:
    body = read(client, world, screened["ring"][0])
    assert body["status"] == "held"
    assert body["reason"] is None
    assert "审核" in body["notice_zh"] and "under review" in body["notice_en"]
    text = json.dumps(body, ensure_ascii=False)
    assert not [code for code in DETECTED if code in text]
    honest = read(client, world, screened["honest"][0])
    assert honest["status"] == "registered" and honest["notice_zh"] is None


def test_a_draw_with_held_out_entries_verifies_from_its_json(
    world: World, client: TestClient, screened: dict[str, Any], tmp_path: Path
) -> None:
    world.platform.clock.set(screened["session"].release_at)
    sweep_once(world.platform)
    draw_id = screened["ring"][0]["draw_id"]
    view = client.get(f"/v1/draws/{draw_id}", headers={"X-Channel-Key": world.channel_key})
    assert view.status_code == 200 and view.json()["status"] == "drawn", view.text
    body = view.json()
    ring_ids = sorted(i["id"] for i in screened["ring"])
    assert sorted(body["held_out"]) == ring_ids
    assert body["reasons"] == dict.fromkeys(ring_ids, screening.PUBLIC_HELD)
    assert {body["assignment"][i["id"]] for i in screened["honest"]} != {None}
    assert body["verified"] is True
    path = tmp_path / "draw.json"
    path.write_text(json.dumps(body), encoding="utf-8")

    shown = CliRunner().invoke(app, ["draw", "verify", "--from-json", str(path)], env=NO_DATABASE)
    assert shown.exit_code == 0, shown.output
    assert "exclusions have reasons:     yes" in shown.output
    assert "held out 6: held_for_review 6" in shown.output
    assert shown.output.strip().endswith("verified")

    # A record that hides why an entry was skipped does not verify.
    silent = {**body, "reasons": {}}
    path.write_text(json.dumps(silent), encoding="utf-8")
    shown = CliRunner().invoke(
        app, ["draw", "verify", "--from-json", str(path), "--json"], env=NO_DATABASE
    )
    assert shown.exit_code == 1
    found = json.loads(shown.output)
    assert found["exclusions_explained"] is False and found["assignment_reproduced"] is True
