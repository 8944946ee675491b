"""A screened caller's hold on a sold-out session refused on the event loop
(``api/sold_out_lane.py``), on both backends.

The lane's refusal must be the route's — the same status, body (alternatives included)
and headers, the same request record but the gate's decision, the same rate-limit hits —
and it must answer only a caller the whole gate let hold a moment ago, from where it was
screened: a new, blacklisted, flagged or moved caller, and every hold it cannot read as a
plain hold by session, goes to the route with its body as it came.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from factories.channel_api import Person, hold, person
from factories.statements import statements, transaction_ends
from factories.world import World
from fairslot.api import sold_out_lane as lane_module
from fairslot.api.app import create_app
from fairslot.api.sold_out_lane import SoldOutLane
from fairslot.audit.models import RequestRecord
from fairslot.blacklist import service as blacklist
from fairslot.blacklist.models import Scope
from fairslot.bootstrap import bootstrap
from fairslot.clock import ManualClock
from fairslot.config import Settings
from fairslot.gate.ratelimit import make_rate_limiter
from fairslot.memo import ALTERNATIVES_FOR, SOLD_OUT_FOR, Memo
from fairslot.schedules.models import Slot
from fairslot.staff.audit import cli_actor
from fairslot.waitlist.sweeps import sweep

PER_RESPONSE = {"x-request-id", "date"}
# Past the gate's "first hold within 15 s of registering" signal: a caller flagged by
# any signal is never recalled.
SETTLED = dt.timedelta(seconds=30)
MS = dt.timedelta(milliseconds=1)


@pytest.fixture
def client(world: World) -> Iterator[TestClient]:
    with TestClient(create_app(world.platform), raise_server_exceptions=False) as test_client:
        yield test_client


def lane_of(client: TestClient) -> SoldOutLane:
    layer: Any = client.app.middleware_stack  # type: ignore[attr-defined]
    while not isinstance(layer, SoldOutLane):
        layer = layer.app
    return layer


def sold_out(client: TestClient, world: World) -> tuple[int, Person]:
    """A session of one slot, taken; a second person who has signed up and waited (the
    scalper), and an alternative session in the same clinic."""
    session = world.session(capacity=1)
    world.session(capacity=4)
    first = person(client, world, "13800138031")
    scalper = person(client, world, "13900139031")
    clock = world.platform.clock
    assert isinstance(clock, ManualClock)
    clock.advance(SETTLED)
    assert hold(client, first, session_id=session.id).status_code == 201
    return session.id, scalper


def blacklist_account(world: World, account_id: int) -> None:
    blacklist.block(
        world.db,
        scope=Scope.ACCOUNT,
        value=str(account_id),
        reason="confirmed ring (case 7)",
        actor=cli_actor("it-admin"),
        now=world.now(),
        protector=world.platform.protector,
    )
    world.db.commit()


def records(world: World) -> list[RequestRecord]:
    world.db.rollback()
    found = list(world.db.scalars(select(RequestRecord).order_by(RequestRecord.id)))
    world.db.commit()
    return found


def compared(record: RequestRecord) -> tuple[Any, ...]:
    return (
        record.action,
        record.outcome,
        record.channel_id,
        record.account_id,
        record.patient_key,
        record.slot_id,
        record.device_key,
        record.ip_key,
        record.user_agent,
    )


def test_a_screened_callers_refusal_is_the_lanes_and_the_same_as_the_routes(
    client: TestClient, world: World
) -> None:
    session_id, scalper = sold_out(client, world)
    lane = lane_of(client)
    by_route = hold(client, scalper, session_id=session_id)  # screened, refused, recalled
    assert lane.answered == 0

    with statements(world.platform.engine) as seen:
        by_lane = hold(client, scalper, session_id=session_id)

    assert lane.answered == 1
    assert by_route.status_code == 409 and by_route.json()["error"] == "session_full"
    assert by_route.json()["alternatives"], "a real answer: an alternative in it"
    assert (by_lane.status_code, by_lane.content) == (by_route.status_code, by_route.content)
    assert {k: v for k, v in by_lane.headers.items() if k not in PER_RESPONSE} == {
        k: v for k, v in by_route.headers.items() if k not in PER_RESPONSE
    }
    # nothing read: its record is all it writes
    written = ("INSERT INTO request_records", "SET LOCAL synchronous_commit")
    assert [s for s in seen if not s.startswith(written)] == [], seen
    route_record, lane_record = records(world)[-2:]
    assert compared(lane_record) == compared(route_record)
    assert route_record.patient_key and route_record.decision == "allow"
    assert lane_record.decision is None  # not screened again: no decision of its own


def test_a_refusal_answered_again_from_its_rendered_body_is_still_the_routes(
    client: TestClient, world: World
) -> None:
    session_id, scalper = sold_out(client, world)
    lane = lane_of(client)
    by_route = hold(client, scalper, session_id=session_id)
    rendered, kept = (hold(client, scalper, session_id=session_id) for _ in range(2))

    assert lane.answered == 2
    for by_lane in (rendered, kept):
        assert (by_lane.status_code, by_lane.content) == (by_route.status_code, by_route.content)
        assert {k: v for k, v in by_lane.headers.items() if k not in PER_RESPONSE} == {
            k: v for k, v in by_route.headers.items() if k not in PER_RESPONSE
        }
    assert [r.outcome for r in records(world)[-3:]] == ["session_full"] * 3


def test_a_caller_never_screened_or_blacklisted_goes_to_the_route_and_its_gate(
    client: TestClient, world: World
) -> None:
    session_id, scalper = sold_out(client, world)
    lane = lane_of(client)
    blacklist_account(world, scalper.account_id)

    answers = [hold(client, scalper, session_id=session_id) for _ in range(3)]

    assert [a.status_code for a in answers] == [403] * 3
    assert {a.json()["error"] for a in answers} == {"request_blocked"}
    assert lane.answered == 0


def test_a_caller_flagged_by_a_velocity_signal_is_not_recalled(
    client: TestClient, world: World
) -> None:
    session = world.session(capacity=1)
    first = person(client, world, "13800138032")
    world.platform.clock.advance(SETTLED)  # type: ignore[attr-defined]
    assert hold(client, first, session_id=session.id).status_code == 201
    hasty = person(client, world, "13900139032")  # holds at once: faster than a person

    answers = [hold(client, hasty, session_id=session.id) for _ in range(2)]

    assert [a.status_code for a in answers] == [409, 409]
    assert lane_of(client).answered == 0  # the second was screened again
    # the first hold came within seconds of signing up; the second is not a first hold
    assert [r.decision for r in records(world)[-2:]] == ["review", "allow"]
    assert hold(client, hasty, session_id=session.id).status_code == 409
    assert lane_of(client).answered == 1  # allowed, so recalled


def test_a_caller_from_another_device_is_screened_again(client: TestClient, world: World) -> None:
    session_id, scalper = sold_out(client, world)
    lane = lane_of(client)
    hold(client, scalper, session_id=session_id)

    moved = hold(client, scalper, session_id=session_id, device="grab-farm-2")

    assert moved.status_code == 409 and lane.answered == 0
    assert records(world)[-1].decision == "allow"  # the gate screened it
    # now recalled from there, and no longer from the first device
    hold(client, scalper, session_id=session_id, device="grab-farm-2")
    assert lane.answered == 1
    hold(client, scalper, session_id=session_id)
    assert lane.answered == 1


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ('{"account_id": "%(a)s", "patient_id": %(p)s, "session_id": %(s)s}', 409),
        ('{"account_id": %(a)s, "patient_id": %(p)s, "session_id": %(s)s, "x": 1}', 409),
        ('{"account_id": %(a)s, "patient_id": %(p)s, "session_id": %(s)s, "slot_id": null}', 409),
        ('{"account_id": %(a)s, "patient_id": %(p)s, "session_id": %(s)s.0}', 409),
        ('{"account_id": %(a)s, "patient_id": %(p)s, "session_id": 0}', 422),
        ('{"account_id": %(a)s, "patient_id": %(p)s, "session_id": %(s)s', 422),
        ("[%(a)s, %(p)s, %(s)s]", 422),
    ],
)
def test_a_hold_the_lane_cannot_read_plainly_goes_to_the_route_as_it_came(
    client: TestClient, world: World, body: str, status: int
) -> None:
    session_id, scalper = sold_out(client, world)
    lane = lane_of(client)
    hold(client, scalper, session_id=session_id)
    content = body % {"a": scalper.account_id, "p": scalper.patient_id, "s": session_id}

    answer = client.post(
        "/v1/holds",
        content=content,
        headers={**scalper.headers, "Content-Type": "application/json"},
    )

    assert lane.answered == 0
    # the route read the body as it came: its own answer to it
    assert answer.status_code == status, answer.text
    assert answer.json()["error"] == ("session_full" if status == 409 else "invalid_request")


def test_a_key_the_lane_never_recalled_goes_to_the_route(client: TestClient, world: World) -> None:
    session_id, scalper = sold_out(client, world)
    lane = lane_of(client)
    hold(client, scalper, session_id=session_id)

    answers = [
        hold(client, replace(scalper, headers={**scalper.headers, "X-Channel-Key": f"forged-{n}"}),
             session_id=session_id)
        for n in range(3)
    ]  # fmt: skip

    assert [a.status_code for a in answers] == [401] * 3
    assert lane.answered == 0 and not lane._lookups


def test_a_caller_blacklisted_after_its_screening_is_refused_sold_out_until_screened_again(
    client: TestClient, world: World
) -> None:
    session_id, scalper = sold_out(client, world)
    lane = lane_of(client)
    hold(client, scalper, session_id=session_id)  # screened: allowed
    blacklist_account(world, scalper.account_id)

    # the decision: a refusal of a sold-out session is not screened again in the lifetime
    assert hold(client, scalper, session_id=session_id).json()["error"] == "session_full"
    assert lane.answered == 1
    clock = world.platform.clock
    assert isinstance(clock, ManualClock)
    clock.advance(dt.timedelta(seconds=world.platform.settings.sold_out_lane_seconds))
    assert hold(client, scalper, session_id=session_id).json()["error"] == "request_blocked"
    # and every hold that could take a slot goes through the gate at once
    other = world.session(capacity=2)
    assert hold(client, scalper, session_id=other.id).json()["error"] == "request_blocked"


def test_an_unbound_patient_is_no_longer_recalled(client: TestClient, world: World) -> None:
    session_id, scalper = sold_out(client, world)
    lane = lane_of(client)
    hold(client, scalper, session_id=session_id)

    unbound = client.delete(
        f"/v1/accounts/{scalper.account_id}/patients/{scalper.patient_id}",
        headers=scalper.headers,
    )

    assert unbound.status_code == 204, unbound.text
    refused = hold(client, scalper, session_id=session_id)
    assert lane.answered == 0
    assert refused.status_code in (403, 404, 409)


def test_a_body_not_declared_json_goes_to_the_route(client: TestClient, world: World) -> None:
    session_id, scalper = sold_out(client, world)
    lane = lane_of(client)
    hold(client, scalper, session_id=session_id)
    body = (
        f'{{"account_id": {scalper.account_id}, "patient_id": {scalper.patient_id}, '
        f'"session_id": {session_id}}}'
    )

    answer = client.post(
        "/v1/holds", content=body, headers={**scalper.headers, "Content-Type": "text/plain"}
    )

    assert lane.answered == 0 and answer.status_code in (409, 422)


def test_the_lanes_rate_limit_refusal_is_the_routes(client: TestClient, world: World) -> None:
    session_id, scalper = sold_out(client, world)
    world.platform.limiter = make_rate_limiter(limits="3/minute", redis_url=None, enabled=True)
    lane = lane_of(client)

    answers = [hold(client, scalper, session_id=session_id) for _ in range(4)]

    assert [a.status_code for a in answers] == [409, 409, 409, 429]
    assert lane.answered == 3  # the second and third, and the fourth's refusal
    assert answers[3].json()["error"] == "rate_limited" and "retry-after" in answers[3].headers
    last = records(world)[-1]
    assert (last.action, last.outcome) == ("create_hold", "rate_limited")


def test_a_callers_own_booking_forgets_it(client: TestClient, world: World) -> None:
    session_id, scalper = sold_out(client, world)
    lane = lane_of(client)
    other = world.session(capacity=2)
    hold(client, scalper, session_id=session_id)
    assert hold(client, scalper, session_id=other.id).status_code == 201  # forgets it

    hold(client, scalper, session_id=session_id)  # the route: screened again
    assert lane.answered == 0
    hold(client, scalper, session_id=session_id)
    assert lane.answered == 1


def screened_then_lapsed(client: TestClient, world: World) -> tuple[int, Person]:
    """:func:`sold_out`, the scalper refused and screened by the route, then the sold-out
    and neighbourhood memos lapsed (not the key's)."""
    session_id, scalper = sold_out(client, world)
    hold(client, scalper, session_id=session_id)
    clock = world.platform.clock
    assert isinstance(clock, ManualClock)
    clock.advance(ALTERNATIVES_FOR + SOLD_OUT_FOR)
    return session_id, scalper


def test_a_lapsed_sold_out_session_is_read_again_by_the_lane_not_the_route(
    client: TestClient, world: World
) -> None:
    session_id, scalper = screened_then_lapsed(client, world)
    lane = lane_of(client)
    with statements(world.platform.engine) as seen:
        again = hold(client, scalper, session_id=session_id)

    assert again.status_code == 409 and lane.answered == 1
    # read again on the lane's thread: the place and free slot, the neighbourhood; no gate
    assert not [s for s in seen if "blacklist" in s], seen
    assert [s for s in seen if "JOIN departments ON departments.id" in s], seen


def test_a_slot_back_in_a_sold_out_session_is_held_one_memo_lifetime_after_it_returns(
    client: TestClient, world: World
) -> None:
    world.platform.memos.screened = Memo(ttl=dt.timedelta(hours=1))  # outlasts the hold
    session_id, scalper = sold_out(client, world)
    lane = lane_of(client)
    hold(client, scalper, session_id=session_id)
    clock = world.platform.clock
    assert isinstance(clock, ManualClock)
    # The worker (another process) expires the first hold; its slot cools.
    clock.advance(dt.timedelta(minutes=world.platform.settings.hold_minutes + 1))
    sweep(world.db, now=world.now(), policy=world.policy, rng=world.platform.rng)
    world.db.commit()
    reopen_at = world.db.scalar(select(Slot.reopen_at).where(Slot.session_id == session_id))
    world.db.commit()
    assert reopen_at is not None
    clock.set(reopen_at - MS * 50)
    # the route (the lane's read finds the slot on its way back), which finds it cooling
    assert hold(client, scalper, session_id=session_id).status_code == 409
    clock.advance(MS * 60)  # due now, but recalled as full a moment ago
    assert hold(client, scalper, session_id=session_id).status_code == 409
    assert lane.answered == 1

    clock.advance(SOLD_OUT_FOR)  # lapsed: the lane's read finds the slot
    booked = hold(client, scalper, session_id=session_id)

    assert booked.status_code == 201, booked.text
    assert lane.answered == 1  # the route held it


def test_at_zero_seconds_every_refusal_is_screened(world: World, settings: Settings) -> None:
    settings.sold_out_lane_seconds = 0
    platform = bootstrap(settings, clock=world.platform.clock, engine=world.platform.engine)
    world.platform.memos = platform.memos  # what the setting makes of the lane's memo
    with TestClient(create_app(world.platform), raise_server_exceptions=False) as client:
        session_id, scalper = sold_out(client, world)
        answers = [hold(client, scalper, session_id=session_id) for _ in range(3)]

        assert [a.status_code for a in answers] == [409] * 3
        assert lane_of(client).answered == 0
    assert [r.decision for r in records(world)[-3:]] == ["allow"] * 3


def test_the_lanes_reads_end_with_a_commit_even_when_they_return_early(
    client: TestClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A rollback makes psycopg forget what it prepared on the connection, and the lane
    # reads on the request pool's connections all through a burst (_reading).
    session_id, _ = screened_then_lapsed(client, world)
    lane = lane_of(client)
    memos, read = world.platform.memos, lane_module.batches.still_sold_out

    def slots_change_meanwhile(*args: Any, **kwargs: Any) -> bool:
        memos.generation += 1  # as a hold of this process would
        return read(*args, **kwargs)

    with transaction_ends(world.platform.engine) as ends:
        lane._read((session_id, world.channel.id))  # reads to the end
        monkeypatch.setattr(lane_module.batches, "still_sold_out", slots_change_meanwhile)
        assert lane._read((session_id, world.channel.id)) is None  # returns early

    assert ends == ["commit", "commit"]


def test_a_first_refusal_of_a_sold_out_session_ends_without_a_rollback_on_postgresql(
    client: TestClient, world: World, backend: str
) -> None:
    # The route's own refusal (the caller was never screened) wrote nothing: its
    # transaction and the alternatives' read after it end with COMMIT on PostgreSQL
    # (db/core.py::discard), the refusal's record in a transaction of its own.
    session_id, scalper = sold_out(client, world)

    with transaction_ends(world.platform.engine) as ends:
        refused = hold(client, scalper, session_id=session_id)

    assert refused.status_code == 409 and refused.json()["error"] == "session_full"
    assert refused.json()["alternatives"] is not None
    if backend == "postgresql":
        assert "rollback" not in ends and "commit" in ends
    assert [r.outcome for r in records(world) if r.action == "hold"][-1] == "session_full"
