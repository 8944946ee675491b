"""The test platform counts its rate limits on the test's manual clock
(``conftest.py::limits_on_clock``): requests at one instant are simultaneous, whatever the
machine's speed, and a window passes only when the test moves the clock past it."""

from __future__ import annotations

import datetime as dt

from fastapi.testclient import TestClient

from factories.world import World

SECOND = dt.timedelta(seconds=1)


def test_requests_at_one_instant_share_a_second_and_the_next_second_is_fresh(
    client: TestClient, world: World
) -> None:
    headers = {
        "X-Channel-Key": world.channel_key,
        "X-Device-Id": "imei-clocked",
        "X-End-User-IP": "203.0.113.44",
    }
    limit = int(world.platform.settings.rate_limits.split(";")[0].split("/")[0])  # 20/second

    first = [client.get("/v1/hospitals", headers=headers).status_code for _ in range(limit)]
    refused = client.get("/v1/hospitals", headers=headers)
    world.platform.clock.advance(SECOND + dt.timedelta(milliseconds=1))
    next_second = client.get("/v1/hospitals", headers=headers)

    assert first == [200] * limit
    assert refused.status_code == 429 and refused.json()["error"] == "rate_limited"
    assert next_second.status_code == 200
