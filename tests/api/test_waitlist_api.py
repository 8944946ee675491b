"""The waitlist (候补) over HTTP, on SQLite and PostgreSQL, with time travel: a full
session's returned slot is booked for the waiting patient, and a poller gets 409."""

from __future__ import annotations

import datetime as dt

from fastapi.testclient import TestClient
from sqlalchemy import select

from factories.world import World
from fairslot.audit.models import RequestRecord
from fairslot.bookings.policy import booking_policy
from fairslot.db.engine import unit_of_work
from fairslot.waitlist import sweeps


def h(world: World, device: str = "imei-1") -> dict[str, str]:
    return {
        "X-Channel-Key": world.channel_key,
        "X-Device-Id": device,
        "X-End-User-IP": "203.0.113.9",
    }


def worker_sweep(world: World) -> sweeps.SweepReport:
    """One round of ``fairslot worker``: its own transaction, committed."""
    platform = world.platform
    with unit_of_work(platform.sessions) as db:
        return sweeps.sweep(
            db, now=platform.clock.now(), policy=booking_policy(platform.settings), rng=platform.rng
        )


def join_body(account_id: int, patient_id: int, session_id: int) -> dict[str, object]:
    return {
        "account_id": account_id,
        "patient_id": patient_id,
        "session_id": session_id,
        "payment_account": "alipay:wait@example",
        "payment_reference": "PRE-1",
    }


def test_a_waiting_patient_gets_a_returned_slot_and_a_poller_gets_409(
    client: TestClient, world: World
) -> None:
    session = world.session(capacity=1)
    slot_id = world.slots(session)[0].id
    holder_account, holder = world.patient()
    waiter_account, waiter = world.patient()
    poller_account, poller = world.patient()

    not_full = client.post(
        "/v1/waitlist", headers=h(world), json=join_body(waiter_account.id, waiter.id, session.id)
    )
    held = client.post(
        "/v1/holds",
        headers=h(world),
        json={"account_id": holder_account.id, "patient_id": holder.id, "slot_id": slot_id},
    ).json()
    client.post(
        f"/v1/bookings/{held['booking_id']}/confirm",
        headers=h(world),
        json={
            "account_id": holder_account.id,
            "payment_account": "6222020000001234",
            "payment_reference": "T-1",
        },
    )
    joined = client.post(
        "/v1/waitlist",
        headers=h(world, "waiter-phone"),
        json=join_body(waiter_account.id, waiter.id, session.id),
    )
    again = client.post(
        "/v1/waitlist",
        headers=h(world, "waiter-phone"),
        json=join_body(waiter_account.id, waiter.id, session.id),
    )
    cancelled = client.post(
        f"/v1/bookings/{held['booking_id']}/cancel",
        headers=h(world),
        json={"account_id": holder_account.id},
    )

    assert not_full.status_code == 409 and not_full.json()["error"] == "session_not_full"
    assert joined.status_code == 201, joined.text
    entry = joined.json()
    assert entry["status"] == "waiting" and entry["joined_at"].endswith("+08:00")
    assert entry["payment_account"] != "alipay:wait@example"
    assert again.status_code == 201 and again.json()["waitlist_id"] == entry["waitlist_id"]
    assert cancelled.status_code == 200

    # past the longest cooling delay: the slot is due, nobody has touched it yet
    world.platform.clock.advance(
        dt.timedelta(minutes=world.policy.cooling_max_minutes) + dt.timedelta(seconds=1)
    )
    grab = client.post(
        "/v1/holds",
        headers=h(world, "radar"),
        json={"account_id": poller_account.id, "patient_id": poller.id, "slot_id": slot_id},
    )
    report = worker_sweep(world)
    status = client.get(
        f"/v1/waitlist/{entry['waitlist_id']}",
        headers=h(world),
        params={"account_id": waiter_account.id},
    )
    booking = client.get(
        f"/v1/bookings/{status.json()['booking_id']}",
        headers=h(world),
        params={"account_id": waiter_account.id},
    )
    feed = client.get("/v1/notifications", headers=h(world)).json()
    grab_again = client.post(
        "/v1/holds",
        headers=h(world, "radar"),
        json={"account_id": poller_account.id, "patient_id": poller.id, "slot_id": slot_id},
    )

    assert grab.status_code == 409 and grab.json()["error"] == "slot_taken"
    # the claim does not sell a returned slot while someone waits, and the poller's hold
    # settles nothing of anyone else's: the worker books it for the waiting patient
    assert report.waitlist_booked == 1
    assert status.status_code == 200 and status.json()["status"] == "booked"
    assert status.json()["decided_at"].endswith("+08:00")
    assert booking.status_code == 200 and booking.json()["status"] == "booked"
    assert booking.json()["slot_id"] == slot_id
    booked_notes = [n for n in feed if n["kind"] == "waitlist_booked"]
    assert [(n["account_id"], n["booking_id"]) for n in booked_notes] == [
        (waiter_account.id, status.json()["booking_id"])
    ]
    assert grab_again.status_code == 409
    actions = world.db.scalars(
        select(RequestRecord.outcome).where(RequestRecord.action == "waitlist_join")
    ).all()
    assert sorted(actions) == ["ok", "ok", "session_not_full"]


def test_a_patient_leaves_the_waitlist_and_another_account_cannot_see_the_entry(
    client: TestClient, world: World
) -> None:
    session = world.session(capacity=1)
    holder_account, holder = world.patient()
    waiter_account, waiter = world.patient()
    other_account, _ = world.patient()
    held = client.post(
        "/v1/holds",
        headers=h(world),
        json={
            "account_id": holder_account.id,
            "patient_id": holder.id,
            "slot_id": world.slots(session)[0].id,
        },
    )
    assert held.status_code == 201
    joined = client.post(
        "/v1/waitlist", headers=h(world), json=join_body(waiter_account.id, waiter.id, session.id)
    ).json()
    url = f"/v1/waitlist/{joined['waitlist_id']}"

    foreign = client.get(url, headers=h(world), params={"account_id": other_account.id})
    left = client.delete(url, headers=h(world), params={"account_id": waiter_account.id})
    left_again = client.delete(url, headers=h(world), params={"account_id": waiter_account.id})
    missing = client.get(
        "/v1/waitlist/no-such-entry", headers=h(world), params={"account_id": waiter_account.id}
    )

    assert foreign.status_code == 403 and foreign.json()["error"] == "not_your_waitlist_entry"
    assert left.status_code == 200 and left.json()["status"] == "cancelled"
    assert left_again.status_code == 200 and left_again.json()["status"] == "cancelled"
    assert missing.status_code == 404


def test_joining_validates_the_request(client: TestClient, world: World) -> None:
    session = world.session(capacity=1)
    account, patient = world.patient()
    body = join_body(account.id, patient.id, session.id)

    blank = client.post("/v1/waitlist", headers=h(world), json={**body, "payment_reference": ""})
    no_key = client.post("/v1/waitlist", json=body)
    unknown = client.post("/v1/waitlist", headers=h(world), json={**body, "session_id": 999999})

    assert blank.status_code == 422
    assert no_key.status_code == 401
    assert unknown.status_code == 404 and unknown.json()["error"] == "session_not_found"
