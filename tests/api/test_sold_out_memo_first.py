"""A hold by session asks the sold-out memo before the release-batch check (issue 14):
a session this process found full is refused without reading its place again, and a
session in an open release-batch window is never recalled as full — its holds are 202
entries however many arrive."""

from __future__ import annotations

import datetime as dt

from fastapi.testclient import TestClient

from factories.channel_api import hold, person, push_expert_clinic, sign_up
from factories.statements import statements
from factories.world import World

RELEASE_AT = dt.datetime(2026, 11, 22, 16, 30, tzinfo=dt.UTC)  # 00:30 Shanghai


def test_a_session_found_full_is_refused_from_the_memo_without_reading_its_place(
    client: TestClient, world: World
) -> None:
    session = world.session(capacity=1)
    first, scalper = person(client, world, "13800138020"), person(client, world, "13900139020")
    assert hold(client, first, session_id=session.id, device="dev-a").status_code == 201
    missed = hold(client, scalper, session_id=session.id, device="grab-1")  # reads, then remembers
    assert missed.status_code == 409 and missed.json()["error"] == "session_full"

    with statements(world.platform.engine) as seen:
        refused = hold(client, scalper, session_id=session.id, device="grab-1")

    assert refused.status_code == 409 and refused.json()["error"] == "session_full"
    assert refused.json()["alternatives"] == missed.json()["alternatives"]
    # neither the session's place (the release-batch check) nor its free slots were read
    assert not [s for s in seen if "JOIN departments ON departments.id" in s], seen
    assert not [s for s in seen if s.startswith("SELECT slots.")], seen


def test_holds_in_an_open_release_batch_window_are_entries_and_never_recalled_as_full(
    client: TestClient, world: World
) -> None:
    pushed = push_expert_clinic(client, world, capacity=1)
    put = client.put(
        f"/hospital/v1/departments/{pushed.department_id}/allocation",
        json={"mode": "release_batch"},
        headers={"X-Hospital-Key": pushed.hospital_key},
    )
    assert put.status_code == 200, put.text
    headers = {"X-Channel-Key": world.channel_key, "X-End-User-IP": "203.0.113.9"}
    people = [
        sign_up(client, phone=f"1390013902{n}", headers={**headers, "X-Device-Id": f"imei-{n}"})
        for n in range(3)
    ]
    world.platform.clock.set(RELEASE_AT + dt.timedelta(seconds=3))

    answers = [
        client.post(
            "/v1/holds",
            json={"account_id": a, "patient_id": p, "session_id": pushed.session_id},
            headers={**headers, "X-Device-Id": f"imei-{n}"},
        )
        for n, (a, p) in enumerate(people)
    ]

    assert [a.status_code for a in answers] == [202] * 3, answers[0].text
    memo = world.platform.memos.sold_out
    assert memo.get((pushed.session_id, world.channel.id), now=world.platform.clock.now()) is None
