"""Client addresses through trusted proxies only, and layered rate limits on every channel
request (availability, catalogue browsing, anonymous requests), over HTTP."""

from __future__ import annotations

import asyncio
import os
import socket
import uuid

import pytest
from fastapi.testclient import TestClient
from limits import parse
from limits.storage import RedisStorage
from sqlalchemy import select

from factories.staff import PASSWORD, create_staff
from factories.world import RELEASED_DAY, World
from fairslot.api.app import create_app
from fairslot.audit.models import RequestRecord
from fairslot.gate.ratelimit import RateLimited, RedisWindows, Subject, make_rate_limiter
from fairslot.staff.roles import Role

REDIS_URL = os.environ.get("FAIRSLOT_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
IN_CI = os.environ.get("CI", "").lower() == "true"


def app_client(world: World, peer: str) -> TestClient:
    return TestClient(create_app(world.platform), client=(peer, 50123))


def params(world: World) -> dict[str, str | int]:
    return {
        "department_id": world.department.id,
        "date_from": str(RELEASED_DAY),
        "date_to": str(RELEASED_DAY),
    }


def recorded_ips(world: World) -> list[str | None]:
    """The raw address each request record stands for: its key is the address's keyed
    hash, its label the address masked (no raw address is stored)."""
    world.db.rollback()
    rows = world.db.execute(
        select(RequestRecord.ip_key, RequestRecord.ip_label).order_by(RequestRecord.id)
    ).all()
    world.db.commit()
    known = ("198.51.100.50", "203.0.113.77", "192.0.2.8", "127.0.0.1", "testclient")
    by_key = {world.network_key(ip): ip for ip in known}
    for key, label in rows:
        assert key is None or (label is not None and label.endswith(".x"))
    return [by_key.get(key, key) if key else None for key, _ in rows]


def test_a_spoofed_forwarded_for_from_an_untrusted_peer_is_ignored(world: World) -> None:
    with app_client(world, "198.51.100.50") as client:
        response = client.get(
            "/v1/availability",
            params=params(world),
            headers={"X-Channel-Key": world.channel_key, "X-Forwarded-For": "203.0.113.77"},
        )
    assert response.status_code == 200
    assert recorded_ips(world) == ["198.51.100.50"]


def test_behind_a_trusted_proxy_the_right_most_untrusted_forwarded_address_is_the_client(
    world: World,
) -> None:
    # The client itself wrote "1.1.1.1"; the proxy on this host appended what it saw.
    with app_client(world, "127.0.0.1") as client:
        response = client.get(
            "/v1/availability",
            params=params(world),
            headers={
                "X-Channel-Key": world.channel_key,
                "X-Forwarded-For": "1.1.1.1, 203.0.113.77",
            },
        )
    assert response.status_code == 200
    assert recorded_ips(world) == ["203.0.113.77"]


def test_the_channels_end_user_ip_still_wins_over_the_forwarded_address(world: World) -> None:
    with app_client(world, "127.0.0.1") as client:
        client.get(
            "/v1/availability",
            params=params(world),
            headers={
                "X-Channel-Key": world.channel_key,
                "X-Forwarded-For": "203.0.113.77",
                "X-End-User-IP": "192.0.2.8",
            },
        )
    assert recorded_ips(world) == ["192.0.2.8"]


def test_staff_login_attempts_are_throttled_per_forwarded_client_not_per_proxy(
    world: World,
) -> None:
    create_staff(world.db, username="wang", roles={Role.AUDITOR}, now=world.now())
    world.platform.limiter = make_rate_limiter(limits="3/minute", redis_url=None, enabled=True)
    wrong = {"username": "wang", "password": "not-the-password"}
    with app_client(world, "127.0.0.1") as client:
        guesses = [
            client.post(
                "/staff/v1/login",
                json={**wrong, "username": f"u{n}"},
                headers={"X-Forwarded-For": "203.0.113.5"},
            ).status_code
            for n in range(4)
        ]
        other = client.post(
            "/staff/v1/login",
            json={"username": "wang", "password": PASSWORD},
            headers={"X-Forwarded-For": "192.0.2.99"},
        )
    assert guesses == [401, 401, 401, 429]
    assert other.status_code == 200


@pytest.mark.parametrize(
    ("limits", "allowed"),
    [("4/5 seconds;100/minute", 4), ("100/second;6/minute", 6)],
    ids=["short-layer", "minute-layer"],
)
def test_availability_polling_is_refused_by_whichever_layer_is_exceeded(
    world: World, limits: str, allowed: int
) -> None:
    world.platform.limiter = make_rate_limiter(limits=limits, redis_url=None, enabled=True)
    headers = {"X-Channel-Key": world.channel_key, "X-Device-Id": "radar"}
    with TestClient(create_app(world.platform)) as client:
        codes = [
            client.get("/v1/availability", params=params(world), headers=headers).status_code
            for _ in range(allowed + 2)
        ]
    assert codes == [200] * allowed + [429, 429]


def test_crawling_the_catalogue_is_throttled_too(world: World) -> None:
    world.platform.limiter = make_rate_limiter(limits="5/minute", redis_url=None, enabled=True)
    headers = {"X-Channel-Key": world.channel_key, "X-Device-Id": "crawler"}
    paths = [
        "/v1/hospitals",
        f"/v1/hospitals/{world.hospital.id}/departments",
        f"/v1/departments/{world.department.id}/doctors",
    ]
    with TestClient(create_app(world.platform)) as client:
        codes = [client.get(paths[n % 3], headers=headers).status_code for n in range(7)]
        refused = client.get("/v1/hospitals", headers=headers)
    assert codes == [200] * 5 + [429, 429]
    assert refused.json()["error"] == "rate_limited"


def test_requests_naming_neither_device_nor_end_user_count_as_one_client_of_the_channel(
    world: World,
) -> None:
    world.platform.limiter = make_rate_limiter(limits="5/minute", redis_url=None, enabled=True)
    with TestClient(create_app(world.platform)) as client:
        anonymous = [
            client.get(
                "/v1/availability",
                params=params(world),
                headers={"X-Channel-Key": world.channel_key},
            ).status_code
            for _ in range(6)
        ]
        identified = client.get(
            "/v1/availability",
            params=params(world),
            headers={"X-Channel-Key": world.channel_key, "X-Device-Id": "a-patients-phone"},
        )
    assert anonymous == [200] * 5 + [429]
    assert identified.status_code == 200


@pytest.mark.redis
def test_availability_polling_is_throttled_through_redis_across_workers(world: World) -> None:
    _require_redis()
    namespace = f"test-{uuid.uuid4().hex}"
    limits = "3/5 seconds;100/minute"
    one = make_rate_limiter(limits=limits, redis_url=REDIS_URL, enabled=True, namespace=namespace)
    two = make_rate_limiter(limits=limits, redis_url=REDIS_URL, enabled=True, namespace=namespace)
    headers = {"X-Channel-Key": world.channel_key, "X-Device-Id": "radar"}
    codes = []
    with TestClient(create_app(world.platform)) as client:
        for limiter in (one, two, one, two):  # two worker processes sharing the counters
            world.platform.limiter = limiter
            codes.append(
                client.get("/v1/availability", params=params(world), headers=headers).status_code
            )
    assert codes == [200, 200, 200, 429]


def _require_redis() -> None:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        if IN_CI:
            pytest.fail(f"CI=true but Redis is not reachable: {exc}")
        pytest.skip(f"Redis not reachable at {REDIS_URL}")


@pytest.mark.redis
def test_a_window_counted_on_the_event_loop_and_from_a_thread_is_one_window() -> None:
    _require_redis()
    limiter = make_rate_limiter(
        limits="3/minute", redis_url=REDIS_URL, enabled=True, namespace=uuid.uuid4().hex
    )
    radar = Subject("device", "radar")

    async def on_loop() -> None:
        await limiter.count(radar)

    assert limiter.counts_on_loop and limiter.waits_on_io
    asyncio.run(on_loop())
    limiter.hit(radar)  # a worker thread's count, through the blocking client
    asyncio.run(on_loop())  # another event loop: a client of its own
    with pytest.raises(RateLimited):
        limiter.hit(radar)
    with pytest.raises(RateLimited):
        asyncio.run(on_loop())


def test_an_unreachable_redis_counts_both_sides_in_one_set_of_memory_windows(
    caplog: pytest.LogCaptureFixture,
) -> None:
    limiter = make_rate_limiter(
        limits="3/minute", redis_url=f"redis://127.0.0.1:{_closed_port()}/0", enabled=True
    )
    radar = Subject("device", "radar")

    async def on_loop() -> None:
        await limiter.count(radar)

    asyncio.run(on_loop())
    asyncio.run(on_loop())
    limiter.hit(radar)
    with pytest.raises(RateLimited):
        asyncio.run(on_loop())
    assert sum("rate-limit store unreachable" in r.getMessage() for r in caplog.records) == 2


def _closed_port() -> int:
    with socket.socket() as probe:  # bound and closed again: nothing listens there
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_an_unreachable_redis_counts_the_limits_in_memory_instead_of_failing_requests(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    world.platform.limiter = make_rate_limiter(
        limits="3/minute", redis_url=f"redis://127.0.0.1:{_closed_port()}/0", enabled=True
    )
    headers = {"X-Channel-Key": world.channel_key, "X-Device-Id": "a-patients-phone"}
    with TestClient(create_app(world.platform)) as client:
        codes = [
            client.get("/v1/availability", params=params(world), headers=headers).status_code
            for _ in range(4)
        ]
    # no 500: the requests are served, and the limit still holds in this process
    assert codes == [200, 200, 200, 429]
    outage = [r for r in caplog.records if "rate-limit store unreachable" in r.getMessage()]
    assert len(outage) == 1  # once per outage window, not once per request
    assert "a-patients-phone" not in caplog.text


def test_the_shared_counters_are_tried_again_after_the_outage_window() -> None:
    now = [100.0]
    windows = RedisWindows(
        RedisStorage(f"redis://127.0.0.1:{_closed_port()}/0", wrap_exceptions=True),
        retry_after=5.0,
        now=lambda: now[0],
    )
    item = parse("1/minute")
    assert windows.hit(item, "device", "k") is True
    assert windows.degraded
    now[0] += 5.0
    assert not windows.degraded  # the next hit asks Redis again
