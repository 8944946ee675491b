"""A request's moving-window hits in Redis in one round trip.

A channel request is counted in every window of every subject it names (per second and
per minute, for its account, device and network): six hits. ``limits`` sends each as
its own ``EVALSHA`` of its moving-window script and waits for the answer before the
next, so under a release burst a poll spent more on those six round trips than on its
answer (issue 14: 0.25-0.59 of the memory windows' rate with Redis).

Here the same script, under the same keys and with the same arguments as
``limits``' ``acquire_entry`` (pinned in ``constraints.txt``; the tests check that a
window counted here is the one ``limits`` reads), is sent for every hit in one
pipeline. Nothing else changes: every window is counted, as :meth:`RateLimiter.hit`
always did, whether or not an earlier one was full.

A server that does not know the script yet (a restart, a flush) answers ``NOSCRIPT``
to every hit of the pipeline, so none was counted: the script is loaded and the
pipeline sent once more.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from limits import RateLimitItem
from redis.exceptions import NoScriptError

Hit = tuple[RateLimitItem, tuple[str, ...]]


def _arguments(store: Any, hits: Sequence[Hit]) -> list[tuple[str, list[object]]]:
    """Each hit's key and arguments, as ``limits``' ``acquire_entry`` passes them."""
    now = time.time()
    return [
        (store.prefixed_key(item.key_for(*ids)), [now, item.amount, item.get_expiry(), 1])
        for item, ids in hits
    ]


def _pipeline(client: Any, sha: str, calls: list[tuple[str, list[object]]]) -> Any:
    """A pipeline (not a transaction) with one ``EVALSHA`` per hit, not yet sent."""
    pipe = client.pipeline(transaction=False)
    for key, args in calls:
        pipe.evalsha(sha, 1, key, *args)
    return pipe


def _unknown(results: list[object]) -> bool:
    return any(isinstance(r, NoScriptError) for r in results)


def _answers(results: list[object]) -> list[bool]:
    for r in results:
        if isinstance(r, Exception):
            raise r
    return [bool(r) for r in results]


def acquire_all(storage: Any, hits: Sequence[Hit]) -> list[bool]:
    """Whether each hit was counted (``limits.storage.RedisStorage``, synchronous)."""
    script, client = storage.lua_acquire_moving_window, storage.get_connection()
    calls = _arguments(storage, hits)
    results = _pipeline(client, script.sha, calls).execute(raise_on_error=False)
    if _unknown(results):
        script.sha = client.script_load(script.script)
        results = _pipeline(client, script.sha, calls).execute(raise_on_error=False)
    return _answers(results)


async def acquire_all_async(storage: Any, hits: Sequence[Hit]) -> list[bool]:
    """:func:`acquire_all` for ``limits.aio.storage.RedisStorage`` (redis-py asyncio)."""
    bridge = storage.bridge
    script, client = bridge.lua_acquire_moving_window, bridge.get_connection()
    calls = _arguments(bridge, hits)
    results = await _pipeline(client, script.sha, calls).execute(raise_on_error=False)
    if _unknown(results):
        script.sha = await client.script_load(script.script)
        results = await _pipeline(client, script.sha, calls).execute(raise_on_error=False)
    return _answers(results)
