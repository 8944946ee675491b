"""A release batch end to end over HTTP: the hospital puts a clinic in batch mode, holds
in the release's first seconds are answered 202, the batch is drawn, the rest is sold."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from fastapi.testclient import TestClient

from factories.channel_api import push_expert_clinic, sign_up
from factories.world import UNRELEASED_DAY, World
from fairslot.allocation.worker import run_due_draws
from fairslot.config import Settings
from fairslot.db.engine import unit_of_work

RELEASE_AT = dt.datetime(2026, 11, 22, 16, 30, tzinfo=dt.UTC)  # 00:30 Shanghai
SECOND = dt.timedelta(seconds=1)


def h(world: World, device: str) -> dict[str, str]:
    return {
        "X-Channel-Key": world.channel_key,
        "X-Device-Id": device,
        "X-End-User-IP": "203.0.113.9",
    }


def push_clinic(client: TestClient, world: World, *, capacity: int) -> tuple[str, int, int]:
    pushed = push_expert_clinic(client, world, capacity=capacity)
    return pushed.hospital_key, pushed.session_id, pushed.department_id


def patient(client: TestClient, world: World, phone: str) -> tuple[int, int]:
    return sign_up(client, phone=phone, headers=h(world, f"imei-{phone}"))


def draw_due(world: World) -> None:
    with unit_of_work(world.platform.sessions) as db:
        run_due_draws(
            db,
            now=world.now(),
            policy=world.policy,
            rng=world.platform.rng,
            protector=world.platform.protector,
            desk=world.platform.screening_desk,
        )


def test_holds_at_release_enter_the_batch_then_the_draw_holds_the_winners(
    client: TestClient, world: World
) -> None:
    key, session_id, department_id = push_clinic(client, world, capacity=2)
    hospital = {"X-Hospital-Key": key}
    put = client.put(
        f"/hospital/v1/departments/{department_id}/allocation",
        json={"mode": "release_batch"},
        headers=hospital,
    )
    assert put.status_code == 200, put.text
    shown = client.get(f"/hospital/v1/departments/{department_id}/allocation", headers=hospital)
    body = shown.json()
    assert body["effective_mode"] == "release_batch" and body["override"] == "release_batch"
    assert body["decisions"][0]["kind"] == "hospital_override"
    assert body["decisions"][0]["actor"] == f"hospital:{world.hospital.code}"
    cards = client.get(
        f"/v1/hospitals/{world.hospital.id}/departments", headers=h(world, "imei-0")
    ).json()
    assert [c["allocation_mode"] for c in cards if c["id"] == department_id] == ["release_batch"]
    people = [patient(client, world, f"1390013900{n}") for n in range(4)]

    world.platform.clock.set(RELEASE_AT + 3 * SECOND)
    seen = client.get(
        "/v1/availability",
        params={
            "department_id": department_id,
            "date_from": str(UNRELEASED_DAY),
            "date_to": str(UNRELEASED_DAY),
        },
        headers=h(world, "imei-0"),
    ).json()
    assert seen[0]["allocation_mode"] == "release_batch"
    assert seen[0]["release_batch_ends_at"] == "2026-11-23T00:31:00+08:00"
    answers: list[Any] = []
    for account_id, patient_id in people:
        for _ in range(2):  # a repeated request adds nothing
            answers.append(
                client.post(
                    "/v1/holds",
                    json={
                        "account_id": account_id,
                        "patient_id": patient_id,
                        "session_id": session_id,
                    },
                    headers=h(world, f"imei-{account_id}"),
                )
            )
    assert [a.status_code for a in answers] == [202] * 8, answers[0].text
    first = answers[0].json()
    assert first["kind"] == "release_batch_entry" and first["status"] == "registered"
    assert first["result_at"] == "2026-11-23T00:31:00+08:00"
    assert "00:31:00 (Asia/Shanghai)" in first["detail"] and "00:31:00" in first["detail_zh"]
    assert answers[1].json()["entry_id"] == first["entry_id"]
    entry_ids = {a.json()["entry_id"] for a in answers}
    assert len(entry_ids) == 4

    world.platform.clock.set(RELEASE_AT + 60 * SECOND)
    late = client.post(
        "/v1/holds",
        json={"account_id": people[0][0], "patient_id": people[0][1], "session_id": session_id},
        headers=h(world, "imei-late"),
    )
    assert late.status_code == 409 and late.json()["error"] == "release_batch_drawing"
    assert late.headers["Retry-After"] == "5"
    draw_due(world)

    results = []
    for (account_id, _), entry_id in zip(
        people, [a.json()["entry_id"] for a in answers[::2]], strict=True
    ):
        read = client.get(
            f"/v1/batch-entries/{entry_id}",
            params={"account_id": account_id},
            headers=h(world, "imei-0"),
        )
        assert read.status_code == 200, read.text
        results.append(read.json())
    won = [r for r in results if r["status"] == "won"]
    assert len(won) == 2 and {r["status"] for r in results} == {"won", "lost"}
    for r in won:
        assert r["booking_id"] and r["pay_by"] == "2026-11-23T00:36:00+08:00"
    verified = client.get(f"/v1/draws/{first['batch_id']}", headers=h(world, "imei-0")).json()
    assert verified["verified"] is True

    # The window is over and the batch has run: the next hold is first-come (201).
    world.platform.clock.set(RELEASE_AT + 61 * SECOND)
    newcomer = patient(client, world, "13900139009")
    claim = client.post(
        "/v1/holds",
        json={"account_id": newcomer[0], "patient_id": newcomer[1], "session_id": session_id},
        headers=h(world, "imei-new"),
    )
    assert claim.status_code == 409 and claim.json()["error"] == "session_full"
    stranger = client.get(
        f"/v1/batch-entries/{first['entry_id']}",
        params={"account_id": newcomer[0]},
        headers=h(world, "imei-new"),
    )
    assert stranger.status_code == 403


def test_a_hold_one_second_after_the_batch_claims_a_leftover_first_come(
    client: TestClient, world: World
) -> None:
    key, session_id, department_id = push_clinic(client, world, capacity=3)
    client.put(
        f"/hospital/v1/departments/{department_id}/allocation",
        json={"mode": "release_batch"},
        headers={"X-Hospital-Key": key},
    )
    (a1, p1), (a2, p2) = (
        patient(client, world, "13700137001"),
        patient(client, world, "13700137002"),
    )
    world.platform.clock.set(RELEASE_AT)
    entered = client.post(
        "/v1/holds",
        json={"account_id": a1, "patient_id": p1, "session_id": session_id},
        headers=h(world, "imei-a"),
    )
    assert entered.status_code == 202
    world.platform.clock.set(RELEASE_AT + 60 * SECOND)
    draw_due(world)
    world.platform.clock.set(RELEASE_AT + 61 * SECOND)
    claim = client.post(
        "/v1/holds",
        json={"account_id": a2, "patient_id": p2, "session_id": session_id},
        headers=h(world, "imei-b"),
    )
    assert claim.status_code == 201, claim.text
    assert claim.json()["status"] == "held"


def test_the_hospital_sets_its_window_within_bounds_and_it_is_recorded(
    client: TestClient, world: World
) -> None:
    key, session_id, department_id = push_clinic(client, world, capacity=1)
    hospital = {"X-Hospital-Key": key}
    too_short = client.put(
        "/hospital/v1/release-batch-window", json={"window_seconds": 5}, headers=hospital
    )
    assert too_short.status_code == 422
    assert too_short.json()["error"] == "batch_window_out_of_range"
    set_ = client.put(
        "/hospital/v1/release-batch-window", json={"window_seconds": 30}, headers=hospital
    )
    assert set_.status_code == 200 and set_.json() == {"window_seconds": 30, "departments": 2}
    client.put(
        f"/hospital/v1/departments/{department_id}/allocation",
        json={"mode": "release_batch"},
        headers=hospital,
    )
    shown = client.get(
        f"/hospital/v1/departments/{department_id}/allocation", headers=hospital
    ).json()
    assert shown["batch_window_seconds"] == 30
    assert [d["kind"] for d in shown["decisions"]] == ["hospital_override", "batch_window"]
    account_id, patient_id = patient(client, world, "13600136001")
    world.platform.clock.set(RELEASE_AT + 29 * SECOND)
    entered = client.post(
        "/v1/holds",
        json={"account_id": account_id, "patient_id": patient_id, "session_id": session_id},
        headers=h(world, "imei-w"),
    )
    assert entered.status_code == 202
    assert entered.json()["result_at"] == "2026-11-23T00:30:30+08:00"


class TestThePlatformsDefault:
    """With the platform's own default settings (caution about clinics without history)."""

    @pytest.fixture
    def settings(self, platform_default_settings: Settings) -> Settings:
        return platform_default_settings

    def test_a_new_clinic_is_batched_by_precaution_and_its_hospital_sees_and_overrides_it(
        self, client: TestClient, world: World
    ) -> None:
        """The platform's default for a clinic with no history is caution: the hospital sees
        the precautionary verdict and may still choose first-come for it."""
        key, _, department_id = push_clinic(client, world, capacity=1)
        hospital = {"X-Hospital-Key": key}
        draw_due(world)  # the worker's sweep after the push judges the new clinic
        path = f"/hospital/v1/departments/{department_id}/allocation"
        shown = client.get(path, headers=hospital).json()
        assert shown["schedule_mode"] == "first_come" and shown["scarce"] is True
        assert shown["effective_mode"] == "release_batch"
        assert shown["verdict"]["precautionary"] is True
        assert "treated as scarce until they are" in shown["verdict"]["summary"]

        put = client.put(path, json={"mode": "first_come"}, headers=hospital)
        assert put.status_code == 200, put.text
        shown = client.get(path, headers=hospital).json()
        assert (shown["override"], shown["scarce"], shown["effective_mode"]) == (
            "first_come",
            False,
            "first_come",
        )
        assert shown["decisions"][0]["kind"] == "hospital_override"
