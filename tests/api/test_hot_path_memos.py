"""The release-burst memos (fairslot/memo.py) over HTTP: they refuse and answer for a
moment only, never sell, and every request still meets the rate limits and is recorded."""

from __future__ import annotations

import datetime as dt

from fastapi.testclient import TestClient
from sqlalchemy import select

from factories.demand import resident_id
from factories.world import RELEASED_DAY, World
from fairslot.audit.models import RequestRecord
from fairslot.bookings import service as bookings
from fairslot.channels.models import Channel
from fairslot.gate.ratelimit import make_rate_limiter
from fairslot.memo import AVAILABILITY_FOR, CHANNEL_FOR, SOLD_OUT_FOR, Memo
from fairslot.schedules.models import Slot
from fairslot.waitlist.sweeps import sweep

MS = dt.timedelta(milliseconds=1)


def h(world: World, device: str = "imei-7") -> dict[str, str]:
    return {"X-Channel-Key": world.channel_key, "X-Device-Id": device}


def person(client: TestClient, world: World, phone: str) -> tuple[int, int]:
    account = client.post("/v1/accounts", json={"phone": phone}, headers=h(world))
    assert account.status_code == 201, account.text
    account_id = account.json()["account_id"]
    patient = client.post(
        f"/v1/accounts/{account_id}/patients",
        json={"name": "王芳", "id_number": resident_id(), "phone": phone},
        headers=h(world),
    )
    assert patient.status_code == 201, patient.text
    return account_id, patient.json()["patient_id"]


def hold(client: TestClient, world: World, who: tuple[int, int], session_id: int, **headers: str):
    return client.post(
        "/v1/holds",
        headers={**h(world), **headers},
        json={"account_id": who[0], "patient_id": who[1], "session_id": session_id},
    )


def reopen_at(world: World, session_id: int) -> dt.datetime:
    at = world.db.scalar(select(Slot.reopen_at).where(Slot.session_id == session_id))
    world.db.commit()
    assert at is not None
    return at


def test_a_cancelled_slot_is_bookable_one_memo_lifetime_after_its_cooling_ends(
    client: TestClient, world: World
) -> None:
    session = world.session(capacity=1)
    first, second = person(client, world, "13800138000"), person(client, world, "13900139000")
    booking = hold(client, world, first, session.id).json()["booking_id"]
    cancelled = client.post(
        f"/v1/bookings/{booking}/cancel", headers=h(world), json={"account_id": first[0]}
    )
    assert cancelled.status_code == 200, cancelled.text
    clock = world.platform.clock
    clock.set(reopen_at(world, session.id) - 100 * MS)  # still cooling: full in the database
    from_db = hold(client, world, second, session.id)
    clock.advance(100 * MS)  # the slot is due now, but the memo still says full

    from_memo = hold(client, world, second, session.id)
    clock.advance(SOLD_OUT_FOR - 99 * MS)  # past the memo's lifetime
    booked = hold(client, world, second, session.id)

    assert from_db.status_code == from_memo.status_code == 409
    for refusal in (from_db.json(), from_memo.json()):
        assert refusal["error"] == "session_full"
        assert refusal["detail"] == "This session is fully booked."
        assert refusal["detail_zh"] == "该时段号源已约满。"
        assert "alternatives" in refusal
    assert booked.status_code == 201, booked.text


def test_a_lapsed_holds_slot_is_bookable_one_memo_lifetime_after_it_returns(
    client: TestClient, world: World
) -> None:
    session = world.session(capacity=1)
    first, second = person(client, world, "13800138000"), person(client, world, "13900139000")
    assert hold(client, world, first, session.id).status_code == 201
    clock = world.platform.clock
    clock.advance(dt.timedelta(minutes=world.platform.settings.hold_minutes + 1))
    sweep(world.db, now=world.now(), policy=world.policy, rng=world.platform.rng)
    world.db.commit()  # the hold lapsed; its slot cools
    clock.set(reopen_at(world, session.id) - 50 * MS)
    assert hold(client, world, second, session.id).json()["error"] == "session_full"
    clock.advance(60 * MS)
    assert hold(client, world, second, session.id).json()["error"] == "session_full"

    clock.advance(SOLD_OUT_FOR)
    booked = hold(client, world, second, session.id)

    assert booked.status_code == 201, booked.text


def test_refusals_from_the_memo_are_rate_limited_and_recorded_with_the_gates_decision(
    client: TestClient, world: World
) -> None:
    session = world.session(capacity=1)
    first, scalper = person(client, world, "13800138000"), person(client, world, "13900139000")
    assert hold(client, world, first, session.id).status_code == 201
    world.platform.limiter = make_rate_limiter(limits="5/minute", redis_url=None, enabled=True)
    # The route's own memo refusal, screened every time: the sold-out lane off (its
    # refusals of a caller screened a moment ago: tests/api/test_sold_out_lane.py).
    world.platform.memos.screened = Memo(ttl=dt.timedelta(0))

    codes = [
        hold(client, world, scalper, session.id, **{"X-Device-Id": "grab-1"}).json()["error"]
        for _ in range(8)
    ]

    assert codes == ["session_full"] * 5 + ["rate_limited"] * 3
    records = world.db.scalars(
        select(RequestRecord)
        .where(RequestRecord.device_key == world.device_key("grab-1"))
        .order_by(RequestRecord.id)
    ).all()
    assert [r.outcome for r in records] == ["session_full"] * 5 + ["rate_limited"] * 3
    # the gate screened every refusal the memo answered, as it did the first
    assert all(r.decision is not None for r in records[:5])
    assert all(r.patient_key for r in records[:5])


def test_the_availability_answer_is_recalled_for_a_moment_then_read_again(
    client: TestClient, world: World
) -> None:
    session = world.session(capacity=2)
    params = {
        "department_id": world.department.id,
        "date_from": str(RELEASED_DAY),
        "date_to": str(RELEASED_DAY),
    }
    before = client.get("/v1/availability", headers=h(world), params=params).json()
    # Another process takes a slot (not through this process's API).
    account, patient = world.patient()
    bookings.hold(
        world.db,
        account_id=account.id,
        patient_id=patient.id,
        slot_id=world.slots(session)[0].id,
        now=world.now(),
        ctx=world.ctx(account),
        policy=world.policy,
        rng=world.platform.rng,
    )
    world.db.commit()

    recalled = client.get("/v1/availability", headers=h(world), params=params).json()
    world.platform.clock.advance(AVAILABILITY_FOR)
    fresh = client.get("/v1/availability", headers=h(world), params=params).json()

    assert before[0]["free"] == recalled[0]["free"] == 2
    assert fresh[0]["free"] == 1


def test_this_processs_own_hold_shows_in_its_next_availability_answer(
    client: TestClient, world: World
) -> None:
    session = world.session(capacity=2)
    params = {
        "department_id": world.department.id,
        "date_from": str(RELEASED_DAY),
        "date_to": str(RELEASED_DAY),
    }
    assert client.get("/v1/availability", headers=h(world), params=params).json()[0]["free"] == 2
    assert hold(client, world, person(client, world, "13800138000"), session.id).status_code == 201

    after = client.get("/v1/availability", headers=h(world), params=params).json()

    assert after[0]["free"] == 1


def test_a_deactivated_channel_is_refused_within_a_memo_lifetime(
    client: TestClient, world: World
) -> None:
    params = {
        "department_id": world.department.id,
        "date_from": str(RELEASED_DAY),
        "date_to": str(RELEASED_DAY),
    }
    assert client.get("/v1/availability", headers=h(world), params=params).status_code == 200
    world.db.get(Channel, world.channel.id).active = False
    world.db.commit()
    world.platform.clock.advance(CHANNEL_FOR)

    refused = client.get("/v1/availability", headers=h(world), params=params)

    assert refused.status_code == 401 and refused.json()["error"] == "channel_key_invalid"
