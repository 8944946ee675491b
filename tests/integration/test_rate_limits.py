"""Rate limits per device, IP and account, in memory and shared through Redis."""

from __future__ import annotations

import os
import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from factories.world import World, make_world
from fairslot.api.app import create_app
from fairslot.audit.models import RequestRecord
from fairslot.bootstrap import bootstrap
from fairslot.config import load_settings
from fairslot.gate.ratelimit import RateLimited, RateLimiter, Subject, make_rate_limiter

REDIS_URL = os.environ.get("FAIRSLOT_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
IN_CI = os.environ.get("CI", "").lower() == "true"


def require_redis() -> None:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        reason = f"Redis not reachable at {REDIS_URL}: {exc.__class__.__name__}"
        if IN_CI:
            pytest.fail(f"CI=true but {reason}")
        pytest.skip(reason)


def test_the_101st_request_in_a_minute_from_one_device_is_refused() -> None:
    limiter = make_rate_limiter(limits="100/minute", redis_url=None, enabled=True)
    for _ in range(100):
        limiter.hit(Subject("device", "imei-1"))
    with pytest.raises(RateLimited) as info:
        limiter.hit(Subject("device", "imei-1"))
    assert info.value.status == 429 and info.value.code == "rate_limited"
    limiter.hit(Subject("device", "imei-2"))  # another device is not affected


def test_layered_limits_refuse_a_burst_before_the_minute_is_used() -> None:
    limiter = make_rate_limiter(limits="5/second;100/minute", redis_url=None, enabled=True)
    for _ in range(5):
        limiter.hit(Subject("ip", "198.51.100.7"))
    with pytest.raises(RateLimited):
        limiter.hit(Subject("ip", "198.51.100.7"))


def shared(limits: str, namespace: str) -> RateLimiter:
    """A limiter on the test's Redis, in a namespace of the test's own."""
    require_redis()
    return make_rate_limiter(limits=limits, redis_url=REDIS_URL, enabled=True, namespace=namespace)


def fresh_namespace() -> str:
    return f"test-{uuid.uuid4().hex}"


@pytest.mark.redis
def test_redis_shares_the_counters_between_worker_processes() -> None:
    namespace = fresh_namespace()
    first, second = shared("10/minute", namespace), shared("10/minute", namespace)
    for _ in range(5):
        first.hit(Subject("account", "42"))
        second.hit(Subject("account", "42"))
    with pytest.raises(RateLimited):
        first.hit(Subject("account", "42"))


@pytest.fixture
def world(db, platform) -> World:
    return make_world(db, platform)


def test_slot_radar_polling_availability_is_throttled_over_http(world: World) -> None:
    world.platform.limiter = make_rate_limiter(limits="20/minute", redis_url=None, enabled=True)
    headers = {"X-Channel-Key": world.channel_key, "X-Device-Id": "radar"}
    params = {
        "department_id": world.department.id,
        "date_from": "2026-11-25",
        "date_to": "2026-11-25",
    }
    with TestClient(create_app(world.platform)) as client:
        codes = [
            client.get("/v1/availability", headers=headers, params=params).status_code
            for _ in range(25)
        ]
        other = client.get(
            "/v1/availability",
            params=params,
            headers={**headers, "X-Device-Id": "patient", "X-End-User-IP": "192.0.2.44"},
        )
    assert codes[:20] == [200] * 20 and codes[20:] == [429] * 5
    assert other.status_code == 200
    outcomes = [
        r.outcome
        for r in world.db.scalars(
            select(RequestRecord).where(RequestRecord.device_key == world.device_key("radar"))
        )
    ]
    # the throttled polls are evidence too
    assert outcomes.count("ok") == 20 and outcomes.count("rate_limited") == 5


def test_requests_without_the_end_user_ip_are_not_limited_on_the_channel_server_ip(
    world: World,
) -> None:
    world.platform.limiter = make_rate_limiter(limits="5/minute", redis_url=None, enabled=True)
    params = {
        "department_id": world.department.id,
        "date_from": "2026-11-25",
        "date_to": "2026-11-25",
    }
    with TestClient(create_app(world.platform)) as client:
        codes = {
            client.get(
                "/v1/availability",
                params=params,
                headers={"X-Channel-Key": world.channel_key, "X-Device-Id": f"phone-{i}"},
            ).status_code
            for i in range(10)
        }
    assert codes == {200}


@pytest.mark.redis
def test_the_platform_uses_redis_when_configured(database_url: str) -> None:
    require_redis()
    settings = load_settings(
        database_url=database_url,
        redis_url=REDIS_URL,
        rate_limits="3/minute",
        redis_namespace=fresh_namespace(),
    )
    one, two = bootstrap(settings), bootstrap(settings)
    one.limiter.hit(Subject("ip", "192.0.2.1"))
    two.limiter.hit(Subject("ip", "192.0.2.1"))
    one.limiter.hit(Subject("ip", "192.0.2.1"))
    with pytest.raises(RateLimited):
        two.limiter.hit(Subject("ip", "192.0.2.1"))
    one.engine.dispose()
    two.engine.dispose()


def _limits_own_view(namespace: str, item: str, *ids: str) -> int:
    """How many hits ``limits``' own moving window sees for the subject."""
    from limits import parse
    from limits.storage import RedisStorage
    from limits.strategies import MovingWindowRateLimiter

    own = MovingWindowRateLimiter(RedisStorage(REDIS_URL, key_prefix=f"{namespace}:rl"))
    limit = parse(item)
    return limit.amount - own.get_window_stats(limit, *ids).remaining


@pytest.mark.redis
def test_a_request_s_windows_counted_in_one_pipeline_are_the_windows_limits_reads() -> None:
    # gate/pipelined.py sends limits' own script under limits' own keys.
    namespace = fresh_namespace()
    limiter = shared("3/second;10/minute", namespace)
    subjects = (Subject("account", "42"), Subject("device", "imei-9"))
    for _ in range(2):
        limiter.hit(*subjects)

    assert _limits_own_view(namespace, "10/minute", "account", "42") == 2
    assert _limits_own_view(namespace, "3/second", "device", "imei-9") == 2
    limiter.hit(*subjects)
    with pytest.raises(RateLimited) as refused:
        limiter.hit(*subjects)
    assert "3 per 1 second" in refused.value.detail
    # every window is counted even past a full one, as before: the minute saw all four
    assert _limits_own_view(namespace, "10/minute", "device", "imei-9") == 4


@pytest.mark.redis
def test_a_server_that_forgot_the_script_counts_each_hit_once() -> None:
    import asyncio

    import redis

    namespace = fresh_namespace()
    limiter = shared("5/minute", namespace)
    server = redis.Redis.from_url(REDIS_URL)
    server.script_flush()
    limiter.hit(Subject("ip", "198.51.100.9"))
    assert _limits_own_view(namespace, "5/minute", "ip", "198.51.100.9") == 1

    server.script_flush()
    asyncio.run(limiter.count(Subject("ip", "198.51.100.9")))
    assert _limits_own_view(namespace, "5/minute", "ip", "198.51.100.9") == 2


@pytest.mark.redis
def test_the_app_closes_its_redis_clients_when_it_stops(database_url: str) -> None:
    import redis

    require_redis()
    namespace = fresh_namespace()
    settings = load_settings(
        database_url=database_url, redis_url=REDIS_URL, redis_namespace=namespace
    )
    server = redis.Redis.from_url(REDIS_URL)

    def ours() -> list[dict[str, object]]:
        return [c for c in server.client_list() if c.get("name") == f"{namespace}:rl"]

    with TestClient(create_app(bootstrap(settings))) as client:
        limiter = client.app.state.platform.limiter  # type: ignore[attr-defined]
        client.portal.call(limiter.count, Subject("device", "d-1"))  # on the app's loop
        limiter.hit(Subject("device", "d-2"))  # as from a worker thread
        assert ours(), "the app's connections carry the windows' prefix as their name"

    assert ours() == []
