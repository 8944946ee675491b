"""The settings the simulator's baseline turns the protections off with, over HTTP, on
SQLite and PostgreSQL: no blacklist gate, no waitlist, instant re-release; and the
platform's clock in /healthz, which the simulator's actors pace themselves on."""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from fastapi.testclient import TestClient

from factories.world import World
from fairslot.api.app import create_app
from fairslot.blacklist import service as blacklist
from fairslot.blacklist.models import Scope
from fairslot.bootstrap import Platform, bootstrap
from fairslot.clock import ManualClock
from fairslot.config import Settings
from fairslot.staff.audit import cli_actor


@contextmanager
def client_with(settings: Settings, clock: ManualClock, **overrides: Any) -> Iterator[TestClient]:
    """A platform on the same database and clock, with some settings changed."""
    changed: Platform = bootstrap(
        settings.model_copy(update=overrides), clock=clock, rng=random.Random(7)
    )
    try:
        with TestClient(create_app(changed), raise_server_exceptions=False) as client:
            yield client
    finally:
        changed.engine.dispose()


def h(world: World, device: str = "imei-1") -> dict[str, str]:
    return {
        "X-Channel-Key": world.channel_key,
        "X-Device-Id": device,
        "X-End-User-IP": "198.51.100.7",
    }


def hold(
    client: TestClient, world: World, *, account_id: int, patient_id: int, session_id: int
) -> httpx.Response:
    return client.post(
        "/v1/holds",
        headers=h(world),
        json={"account_id": account_id, "patient_id": patient_id, "session_id": session_id},
    )


def pay(client: TestClient, world: World, booking_id: str, account_id: int) -> None:
    paid = client.post(
        f"/v1/bookings/{booking_id}/confirm",
        headers=h(world),
        json={
            "account_id": account_id,
            "payment_account": "6222020000005678",
            "payment_reference": "R",
        },
    )
    assert paid.status_code == 200, paid.text


def test_with_the_gate_switched_off_a_blocked_device_books_and_with_it_on_it_does_not(
    world: World, settings: Settings, clock: ManualClock
) -> None:
    session = world.session(capacity=2)
    account, patient = world.patient()
    blacklist.block(
        world.db,
        scope=Scope.DEVICE,
        value="grab-bot-9",
        reason="simulator baseline check",
        actor=cli_actor("it-admin"),
        now=world.now(),
        protector=world.platform.protector,
    )
    world.db.commit()
    hold = {"account_id": account.id, "patient_id": patient.id, "session_id": session.id}

    with client_with(settings, clock, gate_enabled=True) as gated:
        refused = gated.post("/v1/holds", json=hold, headers=h(world, "grab-bot-9"))
    with client_with(settings, clock, gate_enabled=False) as open_gate:
        allowed = open_gate.post("/v1/holds", json=hold, headers=h(world, "grab-bot-9"))

    assert refused.status_code == 403 and refused.json()["error"] == "request_blocked"
    assert allowed.status_code == 201, allowed.text


def test_a_platform_without_waitlists_refuses_to_join_one(
    world: World, settings: Settings, clock: ManualClock
) -> None:
    session = world.session(capacity=1)
    holder_account, holder = world.patient()
    waiter_account, waiter = world.patient()
    join = {
        "account_id": waiter_account.id,
        "patient_id": waiter.id,
        "session_id": session.id,
        "payment_account": "alipay:wait@example",
        "payment_reference": "PRE-9",
    }

    with client_with(settings, clock, waitlist_enabled=False) as client:
        held = hold(
            client,
            world,
            account_id=holder_account.id,
            patient_id=holder.id,
            session_id=session.id,
        )
        pay(client, world, held.json()["booking_id"], holder_account.id)
        refused = client.post("/v1/waitlist", headers=h(world, "waiter"), json=join)
    with client_with(settings, clock) as client:
        joined = client.post("/v1/waitlist", headers=h(world, "waiter"), json=join)

    assert refused.status_code == 409
    assert refused.json()["error"] == "waitlist_disabled" and refused.json()["detail_zh"]
    assert joined.status_code == 201, joined.text


def test_with_no_cooling_a_cancelled_slot_is_on_sale_again_at_once(
    world: World, settings: Settings, clock: ManualClock
) -> None:
    session = world.session(capacity=1)
    broker_account, throwaway = world.patient()
    _, buyer = world.patient(account=broker_account)
    with client_with(settings, clock, cooling_min_minutes=0, cooling_max_minutes=0) as client:
        held = hold(
            client,
            world,
            account_id=broker_account.id,
            patient_id=throwaway.id,
            session_id=session.id,
        )
        pay(client, world, held.json()["booking_id"], broker_account.id)
        cancelled = client.post(
            f"/v1/bookings/{held.json()['booking_id']}/cancel",
            headers=h(world),
            json={"account_id": broker_account.id},
        )
        rebooked = hold(
            client, world, account_id=broker_account.id, patient_id=buyer.id, session_id=session.id
        )

    assert cancelled.status_code == 200
    assert rebooked.status_code == 201, rebooked.text
    assert rebooked.json()["slot_id"] == held.json()["slot_id"]


def test_healthz_tells_the_platforms_own_time(world: World, clock: ManualClock) -> None:
    with TestClient(create_app(world.platform)) as client:
        body = client.get("/healthz").json()
    assert body["status"] == "ok"
    assert body["now"] == clock.now().isoformat()
