"""A release draw end to end over HTTP, through release day with time travel."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi.testclient import TestClient

from factories.channel_api import push_expert_clinic, sign_up
from factories.world import UNRELEASED_DAY, World
from fairslot.cli.worker_cmd import sweep_once

PUSH_AT = dt.datetime(2026, 11, 22, 16, 0, tzinfo=dt.UTC)  # 00:00 Shanghai, 2026-11-23
RELEASE_AT = dt.datetime(2026, 11, 22, 16, 30, tzinfo=dt.UTC)


def h(world: World, device: str = "imei-1") -> dict[str, str]:
    return {
        "X-Channel-Key": world.channel_key,
        "X-Device-Id": device,
        "X-End-User-IP": "203.0.113.9",
        "X-Wifi-Id": "home-ap",
    }


def draw_clinic(client: TestClient, world: World, *, capacity: int) -> dict[str, Any]:
    pushed = push_expert_clinic(client, world, capacity=capacity, allocation_mode="draw")
    return {"id": pushed.session_id}


def patient(client: TestClient, world: World, phone: str) -> tuple[int, int]:
    return sign_up(client, phone=phone, headers=h(world))


def test_intents_a_draw_at_release_and_a_public_verification(
    client: TestClient, world: World
) -> None:
    session = draw_clinic(client, world, capacity=1)
    people = [patient(client, world, f"1380013800{n}") for n in range(3)]

    def register(account_id: int, patient_id: int, device: str = "") -> Any:
        # each on their own phone and card (one phone or card for three accounts is a ring)
        return client.post(
            "/v1/intents",
            headers=h(world, device or f"imei-{patient_id}"),
            json={
                "account_id": account_id,
                "patient_id": patient_id,
                "session_id": session["id"],
                "payment_account": f"alipay:{patient_id}@example",
                "payment_reference": f"pre-{patient_id}",
            },
        )

    early = register(*people[0])
    assert early.status_code == 404 and early.json()["error"] == "session_not_found"

    world.platform.clock.set(PUSH_AT + dt.timedelta(minutes=5))
    made = [register(*p) for p in people]
    assert [r.status_code for r in made] == [201, 201, 201], made[0].text
    again = register(*people[0], device="bot-2")
    assert again.status_code == 200 and again.json()["id"] == made[0].json()["id"]
    draw_id = made[0].json()["draw_id"]

    before = client.get(f"/v1/draws/{draw_id}", headers=h(world)).json()
    assert before["status"] == "open" and before["intents"] == 3
    assert before["algorithm"] == "sha256-fisher-yates-v2"  # published with the commitment
    assert before["seed"] is None and before["verified"] is None
    assert before["seed_commitment"] == made[0].json()["seed_commitment"]
    assert before["due_at"].endswith("+08:00")  # the hospital's zone at the edge

    # Released, not drawn: nothing to hold, whoever asks first.
    world.platform.clock.set(RELEASE_AT)
    grab = client.post(
        "/v1/holds",
        headers=h(world, "bot-3"),
        json={"account_id": people[0][0], "patient_id": people[0][1], "session_id": session["id"]},
    )
    assert grab.status_code == 404, grab.text
    late = register(*people[1])
    assert late.status_code == 409 and late.json()["error"] == "intent_window_closed"

    sweep_once(world.platform)

    published = client.get(f"/v1/draws/{draw_id}", headers=h(world))
    after = published.json()
    assert after["status"] == "drawn" and after["verified"] is True
    assert after["recomputed"] == after["assignment"]
    assert sorted(after["intent_ids"]) == sorted(r.json()["id"] for r in made)
    # Enough to re-run it without the platform (docs/draw-verification.md), nothing personal.
    assert after["algorithm"] == "sha256-fisher-yates-v2" and after["seed"]
    assert {tuple(sorted(e)) for e in after["entries"]} == {
        ("channel_id", "intent_id", "session_id", "title")
    }
    assert [s["number"] for s in after["slots"]] == [1]
    assert (after["refused"], after["held_out"], after["reasons"]) == ([], [], {})
    for personal in ("王芳", "alipay", "13800138000", "imei-1", "203.0.113.9", "account_id"):
        assert personal not in published.text
    statuses = [
        client.get(
            f"/v1/intents/{r.json()['id']}", headers=h(world), params={"account_id": account_id}
        ).json()
        for r, (account_id, _) in zip(made, people, strict=True)
    ]
    assert sorted(s["status"] for s in statuses) == ["lost", "lost", "won"]
    winner = next(s for s in statuses if s["status"] == "won")
    booking = client.get(
        f"/v1/bookings/{winner['booking_id']}",
        headers=h(world),
        params={"account_id": winner["account_id"]},
    )
    assert booking.status_code == 200 and booking.json()["status"] == "booked"
    feed = client.get("/v1/notifications", headers=h(world)).json()
    assert sorted(n["kind"] for n in feed if n["kind"].startswith("draw_")) == [
        "draw_lost",
        "draw_lost",
        "draw_won",
    ]
    found = client.get(
        "/v1/draws",
        headers=h(world),
        params={"department_id": after["department_id"], "date": str(UNRELEASED_DAY)},
    )
    assert found.status_code == 200 and found.json()["id"] == draw_id


def test_a_withdrawn_intent_before_the_draw(client: TestClient, world: World) -> None:
    session = draw_clinic(client, world, capacity=1)
    account_id, patient_id = patient(client, world, "13800138009")
    world.platform.clock.set(PUSH_AT + dt.timedelta(minutes=1))
    made = client.post(
        "/v1/intents",
        headers=h(world),
        json={
            "account_id": account_id,
            "patient_id": patient_id,
            "session_id": session["id"],
            "payment_account": "6222020000001234",
            "payment_reference": "pre-1",
        },
    )
    assert made.status_code == 201, made.text
    gone = client.delete(
        f"/v1/intents/{made.json()['id']}", headers=h(world), params={"account_id": account_id}
    )
    assert gone.status_code == 200 and gone.json()["status"] == "withdrawn"


def test_a_draw_id_past_a_database_integer_is_an_invalid_request_not_a_server_error(
    client: TestClient, world: World
) -> None:
    # Found by tests/api/test_openapi_contract.py: SQLite cannot bind 2**63 (a 500 before).
    for draw_id in (2**31, 2**63):
        response = client.get(f"/v1/draws/{draw_id}", headers=h(world))

        assert response.status_code == 422
        assert response.json()["error"] == "invalid_request"
