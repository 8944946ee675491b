"""Many channels' users press "hold" on the same slot at the same instant, over HTTP.

Each thread sends one ``POST /v1/holds`` through the whole stack (authentication, rate
limits, the request's own transaction, the error handlers, the audit record written
after a refusal's rollback). Exactly one gets 201; the others get a 409 JSON refusal,
never a 5xx. Run with ``-s`` to see the figures.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from factories.world import World
from fairslot.audit.models import RequestRecord
from fairslot.bookings.models import Booking
from fairslot.config import Settings, load_settings

# anyio runs sync endpoints and dependencies on at most 40 worker threads by default.
WITHIN_THE_WORKER_THREADS = 30
BURST = 200


@pytest.fixture
def settings(database_url: str) -> Settings:
    # Pool 20 + overflow 20: below PostgreSQL's 100 connections even with other runs.
    return load_settings(database_url=database_url, db_pool_size=20)


def race_over_http(client: TestClient, world: World, backend: str, clients: int) -> None:
    slot_id = world.slots(world.session(capacity=1))[0].id
    requests = [
        (
            {"account_id": account.id, "patient_id": patient.id, "slot_id": slot_id},
            {
                "X-Channel-Key": world.channel_key,
                "X-Device-Id": f"imei-{n}",
                "X-End-User-IP": f"198.51.100.{n + 1}",
            },
        )
        for n, (account, patient) in enumerate(world.patient() for _ in range(clients))
    ]
    barrier = threading.Barrier(clients)

    def press_hold(body: dict[str, object], headers: dict[str, str]) -> httpx.Response:
        barrier.wait(timeout=60)
        return client.post("/v1/holds", json=body, headers=headers)

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        responses = list(pool.map(lambda r: press_hold(*r), requests))
    seconds = time.perf_counter() - started

    statuses = Counter(r.status_code for r in responses)
    bodies = [r.json() for r in responses]  # every answer is JSON, 5xx included
    refusals = Counter(b["error"] for r, b in zip(responses, bodies, strict=True) if "error" in b)
    print(
        f"\n[{backend}] {clients} HTTP holds on one slot: {dict(sorted(statuses.items()))} "
        f"({', '.join(f'{n} {code}' for code, n in sorted(refusals.items()))}) in {seconds:.2f}s"
    )
    assert statuses == {201: 1, 409: clients - 1}, refusals
    assert set(refusals) <= {"slot_taken", "booking_conflict", "conflict"}
    assert all(b["detail"] for b in bodies if "error" in b)
    (winner,) = [b for r, b in zip(responses, bodies, strict=True) if r.status_code == 201]
    assert winner["slot_id"] == slot_id and winner["status"] == "held"

    db = world.db
    db.rollback()  # see what the requests committed
    assert [b.id for b in db.scalars(select(Booking))] == [winner["booking_id"]]
    outcomes = Counter(
        db.scalars(select(RequestRecord.outcome).where(RequestRecord.action == "hold"))
    )
    assert outcomes["ok"] == 1 and sum(outcomes.values()) == clients, outcomes


def test_thirty_simultaneous_http_holds_on_one_slot_give_one_201_and_29_409s(
    client: TestClient, world: World, backend: str
) -> None:
    race_over_http(client, world, backend, WITHIN_THE_WORKER_THREADS)


def test_a_burst_of_two_hundred_http_holds_on_one_slot_gives_one_201_and_199_409s(
    client: TestClient, world: World, backend: str
) -> None:
    race_over_http(client, world, backend, BURST)
