"""The radar's poll answered on the event loop (``api/poll_lane.py``), on both backends.

A poll whose answer and channel key are recalled is answered by the lane, before FastAPI:
it must be indistinguishable from the route's answer — the same bytes and headers, the
same request record, the same rate-limit hit and refusal, the same route in the access
log and metrics. Anything the lane does not answer goes to the route as it came, with
nothing counted twice.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select, update

from factories.statements import statements
from factories.world import RELEASED_DAY, World
from fairslot.api.app import create_app
from fairslot.api.poll_lane import PollLane
from fairslot.audit.models import RequestRecord
from fairslot.clock import ManualClock
from fairslot.gate.ratelimit import make_rate_limiter
from fairslot.memo import AVAILABILITY_FOR
from fairslot.schedules.models import Slot
from fairslot.schedules.states import SlotState

HEADERS = {
    "X-Device-Id": "radar-7",
    "X-End-User-IP": "198.51.100.23",
    "User-Agent": "grab/2.0",
    "X-Client-Step-Ms": "640",
}
# Set per response: what may differ between two answers of the same poll.
PER_RESPONSE = {"x-request-id", "date"}


@pytest.fixture
def client(world: World) -> Iterator[TestClient]:
    world.session(capacity=3)  # released: the answer has a session in it
    with TestClient(create_app(world.platform), raise_server_exceptions=False) as test_client:
        yield test_client


def lane_of(client: TestClient) -> PollLane:
    layer: Any = client.app.middleware_stack  # type: ignore[attr-defined]
    while not isinstance(layer, PollLane):
        layer = layer.app
    return layer


def poll(client: TestClient, world: World, query: str | None = None, **headers: str):
    query = query or (
        f"department_id={world.department.id}&date_from={RELEASED_DAY}&date_to={RELEASED_DAY}"
    )
    return client.get(
        f"/v1/availability?{query}",
        headers={"X-Channel-Key": world.channel_key, **HEADERS, **headers},
    )


def records(world: World) -> list[RequestRecord]:
    if world.platform.records is not None:
        world.platform.records.flush()
    world.db.rollback()
    found = list(world.db.scalars(select(RequestRecord).order_by(RequestRecord.id)))
    world.db.commit()
    return found


def as_compared(record: RequestRecord) -> tuple[Any, ...]:
    return (
        record.action,
        record.outcome,
        record.channel_id,
        record.device_key,
        record.ip_key,
        record.ip_label,
        record.user_agent,
        record.client_step_ms,
        record.decision,
    )


def test_a_recalled_poll_is_answered_by_the_lane_as_the_route_answered_it(
    client: TestClient, world: World
) -> None:
    lane = lane_of(client)
    first = poll(client, world)  # the route: the answer is not recalled yet
    assert lane.answered == 0
    second = poll(client, world)

    assert lane.answered == 1
    assert (second.status_code, second.content) == (first.status_code, first.content)
    assert first.status_code == 200 and first.json()  # a real answer, sessions in it
    assert {k: v for k, v in second.headers.items() if k not in PER_RESPONSE} == {
        k: v for k, v in first.headers.items() if k not in PER_RESPONSE
    }
    assert second.headers["x-request-id"] != first.headers["x-request-id"]
    route_record, lane_record = records(world)
    assert as_compared(lane_record) == as_compared(route_record)
    assert lane_record.action == "availability" and lane_record.outcome == "ok"
    assert lane_record.client_step_ms == 640 and lane_record.user_agent == "grab/2.0"


def test_the_lanes_rate_limit_refusal_is_the_routes(client: TestClient, world: World) -> None:
    world.platform.limiter = make_rate_limiter(limits="2/minute", redis_url=None, enabled=True)
    lane = lane_of(client)
    answers = [poll(client, world) for _ in range(3)]
    # The route's refusal of the same device, for comparison: a poll the lane leaves to
    # the route (a leading zero in the department is not its plain form).
    odd = f"department_id=0{world.department.id}&date_from={RELEASED_DAY}&date_to={RELEASED_DAY}"
    by_route = poll(client, world, odd)

    assert [a.status_code for a in answers] == [200, 200, 429]
    assert lane.answered == 2  # the second poll and the refused third
    assert by_route.status_code == 429 and lane.answered == 2
    assert answers[2].json() == by_route.json()
    assert answers[2].json()["error"] == "rate_limited" and answers[2].json()["detail_zh"]
    assert answers[2].headers.get("retry-after") == by_route.headers.get("retry-after")
    refused = [r for r in records(world) if r.outcome == "rate_limited"]
    assert len(refused) == 2 and as_compared(refused[0]) == as_compared(refused[1])
    assert refused[0].action == "get_availability"


@pytest.mark.parametrize(
    ("query", "headers", "status"),
    [
        ("department_id=0{d}&date_from={day}&date_to={day}", {}, 200),
        ("department_id={d}&department_id={d}&date_from={day}&date_to={day}", {}, 200),
        ("department_id={d}&date_from={day}&date_to={day}&title=", {}, 422),
        ("department_id={d}&date_from={day}T00:00&date_to={day}", {}, None),
        ("department_id=99999999999&date_from={day}&date_to={day}", {}, 422),
        ("department_id={d}&date_from={day}&date_to={day}", {"X-Device-Id": "d" * 129}, 422),
        ("department_id={d}&date_from={day}&date_to={day}", {"X-End-User-IP": "nope"}, 422),
        ("department_id={d}&date_from={day}&date_to={day}", {"X-Channel-Key": "wrong"}, 401),
    ],
    ids=[
        "leading-zero",
        "twice",
        "blank-title",
        "datetime-day",
        "huge-department",
        "long-device",
        "bad-end-user-ip",
        "unknown-key",
    ],
)
def test_what_the_lane_does_not_take_the_route_answers_with_nothing_counted_twice(
    client: TestClient,
    world: World,
    query: str,
    headers: dict[str, str],
    status: int | None,
) -> None:
    world.platform.limiter = make_rate_limiter(limits="3/minute", redis_url=None, enabled=True)
    lane = lane_of(client)
    assert poll(client, world).status_code == 200  # the answer is now recalled
    odd = poll(client, world, query.format(d=world.department.id, day=RELEASED_DAY), **headers)

    assert lane.answered == 0
    if status is not None:
        assert odd.status_code == status, odd.text
    if odd.status_code == 200:
        assert odd.content == poll(client, world).content  # and that one, the lane's
        assert lane.answered == 1
        # Three polls, three hits of the device's 3/minute window: the fourth is refused.
        assert poll(client, world).status_code == 429


def test_the_lanes_polls_are_measured_under_the_route(world: World) -> None:
    def answered() -> float:
        text = client.get("/metrics").text
        return sum(
            sample.value
            for family in text_string_to_metric_families(text)
            for sample in family.samples
            if sample.name == "fairslot_http_requests_total"
            and sample.labels.get("route") == "/v1/availability"
        )

    with TestClient(create_app(world.platform), client=("127.0.0.1", 50124)) as client:
        before = answered()
        poll(client, world)
        poll(client, world)
        assert lane_of(client).answered == 1
        assert answered() - before == 2


async def _ten_polls(client: TestClient, world: World) -> list[httpx.Response]:
    query = f"department_id={world.department.id}&date_from={RELEASED_DAY}&date_to={RELEASED_DAY}"
    transport = httpx.ASGITransport(app=client.app, client=("198.51.100.9", 4000))
    async with httpx.AsyncClient(transport=transport, base_url="http://fairslot") as http:
        return await asyncio.gather(
            *(
                http.get(
                    f"/v1/availability?{query}",
                    headers={
                        "X-Channel-Key": world.channel_key,
                        **HEADERS,
                        "X-Device-Id": f"scanner-{n}",
                    },
                )
                for n in range(10)
            )
        )


def ten_polls(client: TestClient, world: World) -> list[httpx.Response]:
    """Ten polls at once, each from its own device, as concurrent requests."""
    return asyncio.run(_ten_polls(client, world))


def test_polls_asking_while_the_answer_is_read_wait_for_that_one_read(
    world: World, client: TestClient
) -> None:
    """Ten polls of an answer not recalled: the first reads it through the route, the
    others are answered by the lane from that read — one read of the sessions, not ten."""
    lane = lane_of(client)

    def reads(seen: list[str]) -> list[str]:
        return [s for s in seen if "FROM clinic_sessions" in s or "JOIN clinic_sessions" in s]

    with statements(world.platform.engine) as one:
        assert poll(client, world).status_code == 200  # the route: both memos filled
    world.platform.memos.availability.clear()  # the channel's key stays recalled
    with statements(world.platform.engine) as seen:
        answers = ten_polls(client, world)

    assert [a.status_code for a in answers] == [200] * 10
    assert len({a.content for a in answers}) == 1 and answers[0].json()
    assert reads(one) and len(reads(seen)) == len(reads(one)), seen
    assert lane.answered == 9  # the nine that waited
    polls = [r for r in records(world) if r.action == "availability"]
    assert len(polls) == 11 and {r.outcome for r in polls} == {"ok"}  # every poll recorded


@pytest.mark.parametrize(
    ("lapsed", "stale"),
    [
        (AVAILABILITY_FOR + timedelta(milliseconds=100), True),
        (AVAILABILITY_FOR * 2 + timedelta(milliseconds=100), False),
        (None, False),
    ],
    ids=["lapsed-within-a-lifetime", "lapsed-longer", "own-change"],
)
def test_while_an_answer_is_read_again_polls_get_the_one_that_just_lapsed(
    world: World,
    client: TestClient,
    clock: ManualClock,
    lapsed: timedelta | None,
    stale: bool,
) -> None:
    """Polls arriving while the first of them reads a lapsed answer again are answered
    with the lapsed one if it lapsed less than a lifetime ago, never after this process's
    own change (which clears it): else they wait for the fresh one."""
    session = world.sessions[0]
    assert poll(client, world).status_code == 200  # recalled now
    recalled = poll(client, world).content
    # Another process takes a slot off sale: this one's memo does not know.
    taken = world.slots(session)[0]
    world.db.execute(update(Slot).where(Slot.id == taken.id).values(state=SlotState.WITHDRAWN))
    world.db.commit()
    if lapsed is None:
        world.platform.memos.changed()  # this process's own hold
    else:
        clock.advance(lapsed)

    answers = ten_polls(client, world)

    assert [a.status_code for a in answers] == [200] * 10
    fresh = [a.content for a in answers if a.content != recalled]
    if stale:
        assert len(fresh) == 1  # the poll that read it again; nine had the lapsed answer
    else:
        assert len(fresh) == 10
    assert lane_of(client).answered == 1 + 9
