"""A plain hold or confirmation run beside FastAPI's router (``api/booking_lane.py``), on
both backends.

Each test asks the same kind of request of the route (``booking_lane`` off) and of the lane
(on) and compares what came back — status, headers, body (the new booking's own ids and
times aside), the request record, the access-log line — and what was written. What the
lane cannot read plainly goes to the route with its body as it came.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import select

from factories.channel_api import Person, confirm, hold, person
from factories.statements import statements
from factories.world import World
from fairslot.api.access_log import ACCESS_LOGGER
from fairslot.api.app import create_app
from fairslot.api.booking_lane import BookingLane, confirmed_booking, plain_confirm, plain_hold
from fairslot.audit.models import RequestRecord
from fairslot.bookings.models import Booking
from fairslot.clock import ManualClock
from fairslot.gate.ratelimit import make_rate_limiter

PER_RESPONSE = {"x-request-id", "date", "content-length"}
# The new booking's own facts: which slot, which ids, when.
OWN = {"booking_id", "slot_id", "slot_number", "slot_starts_at", "slot_ends_at"}
OWN |= {"held_at", "hold_expires_at"}
SETTLED = dt.timedelta(seconds=30)  # past the gate's first-hold-after-registering signal


@pytest.fixture
def client(world: World) -> Iterator[TestClient]:
    with TestClient(create_app(world.platform), raise_server_exceptions=False) as test_client:
        yield test_client


def lane_of(client: TestClient) -> BookingLane:
    layer: Any = client.app.middleware_stack  # type: ignore[attr-defined]
    while not isinstance(layer, BookingLane):
        layer = layer.app
    return layer


def people(client: TestClient, world: World, n: int) -> list[Person]:
    found = [person(client, world, f"1380013{8100 + i:04d}") for i in range(n)]
    clock = world.platform.clock
    assert isinstance(clock, ManualClock)
    clock.advance(SETTLED)
    return found


def by_route(client: TestClient, world: World, ask: Any) -> Response:
    world.platform.settings.booking_lane = False
    try:
        return ask()
    finally:
        world.platform.settings.booking_lane = True


def by_lane(client: TestClient, ask: Any) -> Response:
    lane = lane_of(client)
    before = lane.answered
    answer = ask()
    assert lane.answered == before + 1, "the lane ran it"
    return answer


def headers_of(answer: Response) -> dict[str, str]:
    return {k: v for k, v in answer.headers.items() if k not in PER_RESPONSE}


def general(body: Any) -> Any:
    """The answer without the new booking's own ids and times."""
    if isinstance(body, dict):
        return {k: ("…" if k in OWN else general(v)) for k, v in body.items()}
    if isinstance(body, list):
        return [general(v) for v in body]
    return body


def last_record(world: World) -> RequestRecord:
    world.db.rollback()
    found = world.db.scalars(select(RequestRecord).order_by(RequestRecord.id.desc())).first()
    world.db.commit()
    assert found is not None
    return found


def looked_up_aside(seen: list[str]) -> list[str]:
    """The statements but a channel key's look-up (the route's, when the recalled key
    lapsed on the test's clock); the lane runs only with a recalled key."""
    return [s for s in seen if not s.startswith("SELECT channels.")]


def same_record(lane: RequestRecord, route: RequestRecord) -> bool:
    """The lane's request wrote a record of its own, recording what the route's did."""
    return lane.id != route.id and compared(lane) == compared(route)


def compared(record: RequestRecord) -> tuple[Any, ...]:
    return (record.action, record.outcome, record.decision, record.reasons, record.channel_id)


def refused_alike(client: TestClient, world: World, ask: Any) -> None:
    """``ask`` refused by the route, then by the lane: the same status, bytes, headers
    and a record of its own with the same outcome."""
    routed = by_route(client, world, ask)
    route_record = last_record(world)
    laned = by_lane(client, ask)
    lane_record = last_record(world)

    assert 400 <= routed.status_code < 500, routed.text
    assert (laned.status_code, laned.content) == (routed.status_code, routed.content)
    assert headers_of(laned) == headers_of(routed)
    assert same_record(lane_record, route_record)
    assert lane_record.outcome == routed.json()["error"]


def test_a_hold_by_slot_run_by_the_lane_answers_and_records_as_the_route(
    client: TestClient, world: World
) -> None:
    session = world.session(capacity=4)
    slots = world.slots(session)
    first, second, third = people(client, world, 3)
    hold(client, third, slot_id=slots[3].id)  # the channel key is looked up and recalled

    with statements(world.platform.engine) as by_routes:
        routed = by_route(client, world, lambda: hold(client, first, slot_id=slots[0].id))
    route_record = last_record(world)
    with statements(world.platform.engine) as by_lanes:
        laned = by_lane(client, lambda: hold(client, second, slot_id=slots[1].id))
    lane_record = last_record(world)

    assert (routed.status_code, laned.status_code) == (201, 201)
    assert by_lanes == looked_up_aside(by_routes), "the same statements, none more"
    assert headers_of(laned) == headers_of(routed)
    assert general(laned.json()) == general(routed.json())
    body = laned.json()
    assert (body["slot_id"], body["status"]) == (slots[1].id, "held")
    assert same_record(lane_record, route_record)
    assert (lane_record.account_id, lane_record.slot_id) == (second.account_id, slots[1].id)
    world.db.rollback()
    booking = world.db.get(Booking, body["booking_id"])
    assert booking is not None and booking.slot_id == slots[1].id
    assert booking.patient_id == second.patient_id


def test_a_hold_by_session_run_by_the_lane_answers_as_the_route(
    client: TestClient, world: World
) -> None:
    session = world.session(capacity=4)
    first, second, third = people(client, world, 3)
    hold(client, third, session_id=session.id)

    routed = by_route(client, world, lambda: hold(client, first, session_id=session.id))
    laned = by_lane(client, lambda: hold(client, second, session_id=session.id))

    assert (routed.status_code, laned.status_code) == (201, 201)
    assert headers_of(laned) == headers_of(routed)
    assert general(laned.json()) == general(routed.json())
    assert laned.json()["slot_number"] == routed.json()["slot_number"] + 1


@pytest.mark.parametrize("refusal", ["slot_taken", "second_hold_that_day", "not_bound"])
def test_a_refused_hold_is_refused_by_the_lane_byte_for_byte_as_by_the_route(
    client: TestClient, world: World, refusal: str
) -> None:
    session = world.session(capacity=2)
    world.session(capacity=3)  # an alternative, in the refusal's body
    slots = world.slots(session)
    first, second = people(client, world, 2)
    assert hold(client, first, slot_id=slots[0].id).status_code == 201
    if refusal == "slot_taken":

        def ask() -> Response:
            return hold(client, second, slot_id=slots[0].id)
    elif refusal == "second_hold_that_day":

        def ask() -> Response:
            return hold(client, first, slot_id=slots[1].id)
    else:
        stranger = Person(
            account_id=second.account_id, patient_id=first.patient_id, headers=second.headers
        )

        def ask() -> Response:
            return hold(client, stranger, slot_id=slots[1].id)

    refused_alike(client, world, ask)
    world.db.rollback()
    assert world.db.scalar(select(Booking.id).where(Booking.slot_id == slots[1].id)) is None


def test_the_lanes_rate_limit_refusal_is_the_routes_and_is_recorded(
    client: TestClient, world: World
) -> None:
    session = world.session(capacity=4)
    slots = world.slots(session)
    (first,) = people(client, world, 1)
    hold(client, first, slot_id=slots[0].id)
    world.platform.limiter = make_rate_limiter(limits="2/minute", redis_url=None, enabled=True)
    lane = lane_of(client)
    before = lane.answered

    answers = [hold(client, first, slot_id=slots[1].id) for _ in range(3)]
    laned = answers[-1]
    lane_record = last_record(world)
    routed = by_route(client, world, lambda: hold(client, first, slot_id=slots[1].id))
    route_record = last_record(world)

    assert lane.answered == before + 3
    assert [a.status_code for a in answers] == [409, 409, 429]  # a second hold that day
    assert (laned.status_code, laned.content) == (routed.status_code, routed.content)
    assert laned.status_code == 429 and laned.json()["error"] == "rate_limited"
    assert headers_of(laned) == headers_of(routed) and "retry-after" in laned.headers
    assert same_record(lane_record, route_record)
    assert (lane_record.action, lane_record.outcome) == ("create_hold", "rate_limited")


def test_the_lanes_access_log_line_names_the_routes_template_and_channel(
    client: TestClient, world: World, caplog: pytest.LogCaptureFixture
) -> None:
    session = world.session(capacity=4)
    slots = world.slots(session)
    first, second = people(client, world, 2)
    hold(client, first, slot_id=slots[0].id)
    caplog.set_level(logging.INFO, logger=ACCESS_LOGGER)

    laned = by_lane(client, lambda: hold(client, second, slot_id=slots[1].id))

    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == ACCESS_LOGGER]
    line = next(x for x in lines if x["request_id"] == laned.headers["x-request-id"])
    assert (line["route"], line["status"], line["channel"]) == (
        "/v1/holds",
        201,
        world.channel.code,
    )
    assert line["subject"], "the account, as a keyed hash"


@pytest.mark.parametrize(
    "change",
    [
        {"note": "extra field"},
        {"account_id": "7"},
        {"session_id": 1},
        {"slot_id": ""},
        {"slot_id": "x" * 37},
    ],
)
def test_a_body_the_lane_cannot_read_plainly_goes_to_the_route(
    client: TestClient, world: World, change: dict[str, object]
) -> None:
    session = world.session(capacity=4)
    slots = world.slots(session)
    (first,) = people(client, world, 1)
    hold(client, first, slot_id=slots[0].id)
    lane = lane_of(client)
    before = lane.answered
    body = {"account_id": first.account_id, "patient_id": first.patient_id}
    body |= {"slot_id": slots[1].id, **change}

    answer = client.post("/v1/holds", headers=first.headers, json=body)

    assert lane.answered == before
    assert 400 <= answer.status_code < 500, answer.text


def test_an_invalid_end_user_ip_or_an_unrecalled_key_goes_to_the_route(
    client: TestClient, world: World
) -> None:
    session = world.session(capacity=4)
    slots = world.slots(session)
    (first,) = people(client, world, 1)
    lane = lane_of(client)
    world.platform.memos.channels.clear()

    looked_up = hold(client, first, slot_id=slots[0].id)  # the key: not recalled yet
    bad_ip = client.post(
        "/v1/holds",
        headers={**first.headers, "X-End-User-IP": "999.1.1.1"},
        json={"account_id": first.account_id, "patient_id": first.patient_id, "slot_id": "s"},
    )

    assert lane.answered == 0
    assert looked_up.status_code == 201
    assert bad_ip.status_code == 422 and bad_ip.json()["error"] == "invalid_end_user_ip"


def test_with_the_lane_off_every_hold_takes_the_route(client: TestClient, world: World) -> None:
    session = world.session(capacity=4)
    slots = world.slots(session)
    first, second = people(client, world, 2)
    world.platform.settings.booking_lane = False

    answers = [
        hold(client, who, slot_id=s.id) for who, s in zip((first, second), slots[:2], strict=True)
    ]

    assert [a.status_code for a in answers] == [201, 201]
    assert lane_of(client).answered == 0


def test_plain_hold_reads_only_the_two_plain_shapes() -> None:
    assert plain_hold(b'{"account_id":1,"patient_id":2,"slot_id":"a"}') is not None
    assert plain_hold(b'{"account_id":1,"patient_id":2,"session_id":3}') is not None
    for body in (
        b"",
        b"[]",
        b'{"account_id":1,"patient_id":2}',
        b'{"account_id":1,"patient_id":2,"slot_id":"a","session_id":3}',
        b'{"account_id":true,"patient_id":2,"session_id":3}',
        b'{"account_id":1.0,"patient_id":2,"session_id":3}',
        b'{"account_id":0,"patient_id":2,"session_id":3}',
        b'{"account_id":1,"patient_id":2,"session_id":2147483648}',
        b'{"account_id":1,"patient_id":2,"slot_id":7}',
        b"\xff",
    ):
        assert plain_hold(body) is None, body


def held(client: TestClient, world: World, n: int) -> tuple[list[Person], list[str]]:
    """``n`` people each holding a slot of one session, the clock past the gate's
    fastest human payment."""
    session = world.session(capacity=n)
    who = people(client, world, n)
    bookings = [
        hold(client, p, slot_id=s.id).json()["booking_id"]
        for p, s in zip(who, world.slots(session), strict=True)
    ]
    clock = world.platform.clock
    assert isinstance(clock, ManualClock)
    clock.advance(dt.timedelta(seconds=20))
    return who, bookings


def test_a_confirmation_run_by_the_lane_answers_and_records_as_the_route(
    client: TestClient, world: World
) -> None:
    (first, second), (one, two) = held(client, world, 2)

    with statements(world.platform.engine) as by_routes:
        routed = by_route(client, world, lambda: confirm(client, first, one, reference="PAY-1"))
    route_record = last_record(world)
    with statements(world.platform.engine) as by_lanes:
        laned = by_lane(client, lambda: confirm(client, second, two, reference="PAY-2"))
    lane_record = last_record(world)

    assert (routed.status_code, laned.status_code) == (200, 200)
    assert by_lanes == looked_up_aside(by_routes), "the same statements, none more"
    assert headers_of(laned) == headers_of(routed)
    assert general(laned.json()) == general(routed.json())
    assert (laned.json()["booking_id"], laned.json()["status"]) == (two, "booked")
    assert same_record(lane_record, route_record)
    assert (lane_record.action, lane_record.booking_id) == ("confirm", two)
    world.db.rollback()
    booking = world.db.get(Booking, two)
    assert booking is not None and booking.payment_reference == "PAY-2"


@pytest.mark.parametrize("refusal", ["not_your_booking", "no_such_booking", "paid_twice"])
def test_a_refused_confirmation_is_refused_by_the_lane_byte_for_byte_as_by_the_route(
    client: TestClient, world: World, refusal: str
) -> None:
    (first, second), (one, _) = held(client, world, 2)
    if refusal == "not_your_booking":

        def ask() -> Response:
            return confirm(client, second, one, reference="PAY-X")
    elif refusal == "no_such_booking":

        def ask() -> Response:
            return confirm(client, first, "no-such-booking", reference="PAY-X")
    else:
        assert confirm(client, first, one, reference="PAY-1").status_code == 200

        def ask() -> Response:
            return confirm(client, first, one, reference="PAY-2")

    refused_alike(client, world, ask)


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({"note": "an extra field, which the route's model ignores"}, 200),
        ({"payment_account": "6222\u0007"}, 422),
        ({"payment_reference": ""}, 422),
        ({"account_id": "7"}, 404),  # read as account 7, which does not exist
        ({"payment_account": 6222020000001234}, 422),
    ],
)
def test_a_confirmation_the_lane_cannot_read_plainly_goes_to_the_route(
    client: TestClient, world: World, change: dict[str, object], status: int
) -> None:
    (first,), (one,) = held(client, world, 1)
    lane = lane_of(client)
    before = lane.answered
    body = {"account_id": first.account_id, "payment_account": "6222020000001234"}
    body |= {"payment_reference": "PAY-1", **change}

    answer = client.post(f"/v1/bookings/{one}/confirm", headers=first.headers, json=body)

    assert lane.answered == before
    assert answer.status_code == status, answer.text


def test_plain_confirm_and_its_path_read_only_the_plain_forms() -> None:
    assert confirmed_booking("/v1/bookings/b-1/confirm") == "b-1"
    for path in ("/v1/bookings//confirm", "/v1/bookings/a/b/confirm", "/v1/bookings/a/cancel"):
        assert confirmed_booking(path) is None, path
    ok = b'{"account_id":1,"payment_account":"6222","payment_reference":"P-1"}'
    assert plain_confirm(ok) is not None
    for body in (
        b'{"account_id":1,"payment_account":"6222"}',
        b'{"account_id":1,"payment_account":"6222","payment_reference":" "}',
        b'{"account_id":"1","payment_account":"6222","payment_reference":"P-1"}',
        b'{"account_id":1,"payment_account":"\\u0000","payment_reference":"P-1"}',
        b"[1]",
    ):
        assert plain_confirm(body) is None, body
