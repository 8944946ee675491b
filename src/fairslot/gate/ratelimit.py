"""Request-rate limits per account, device and network, layered (e.g. per second and per
minute), as moving windows: in this process's memory by default, in Redis (the ``limits``
library) when configured so that every worker process shares the same counters.

Availability queries count like any other request, so polling for returned slots is
throttled too.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, cast

import redis
from limits import RateLimitItem, parse_many
from limits.aio.storage import RedisStorage as AsyncRedisStorage
from limits.errors import StorageError
from limits.storage import RedisStorage
from limits.strategies import MovingWindowRateLimiter

from fairslot.errors import DomainError
from fairslot.gate.pipelined import Hit, acquire_all, acquire_all_async

log = logging.getLogger(__name__)


class RateLimited(DomainError):
    code = "rate_limited"
    status = 429


@dataclass(frozen=True)
class Subject:
    scope: str  # "account", "device", "ip"
    key: str


class Windows(Protocol):
    def hit(self, item: RateLimitItem, *identifiers: str) -> bool:
        """Count one hit of the identified subject against ``item``; False (not counted)
        when the window is already full."""
        ...

    def hit_all(self, hits: Sequence[Hit]) -> list[bool]:
        """:meth:`hit` for each of ``hits`` (item, identifiers), at once where the store
        allows it (one round trip to Redis)."""
        ...


class MemoryWindows:
    """Moving windows in this process's memory, expired lazily.

    The rule is that of ``limits``' moving window: a hit is allowed while fewer than
    ``item.amount`` hits of the subject were allowed in the last ``item.get_expiry()``
    seconds; a refused hit is not counted. ``limits``' own ``MemoryStorage`` expires old
    hits from a timer thread that walks every key, under a lock each, every 10 ms after
    any hit: with a few thousand identities in a release burst that walk took about two
    thirds of the server's Python time (py-spy, issue 5). Here a subject's old hits are
    dropped when it is next hit, and subjects idle for longer than their window are
    forgotten by a sweep at most once per ``sweep_every`` seconds.
    """

    def __init__(
        self, *, now: Callable[[], float] = time.monotonic, sweep_every: float = 60.0
    ) -> None:
        self._now = now
        self._sweep_every = sweep_every
        self._next_sweep = now() + sweep_every
        self._hits: dict[str, tuple[float, deque[float]]] = {}
        self._lock = threading.Lock()

    def hit(self, item: RateLimitItem, *identifiers: str) -> bool:
        key = item.key_for(*identifiers)
        window = float(item.get_expiry())
        with self._lock:
            now = self._now()
            if now >= self._next_sweep:
                self._sweep(now)
            entry = self._hits.get(key)
            if entry is None:
                entry = self._hits[key] = (window, deque())
            hits = entry[1]
            while hits and hits[0] < now - window:
                hits.popleft()
            if len(hits) >= item.amount:
                return False
            hits.append(now)
            return True

    def hit_all(self, hits: Sequence[Hit]) -> list[bool]:
        return [self.hit(item, *ids) for item, ids in hits]

    def __len__(self) -> int:
        """How many subjects' windows are kept (for tests)."""
        return len(self._hits)

    def _sweep(self, now: float) -> None:
        self._hits = {
            key: (window, hits)
            for key, (window, hits) in self._hits.items()
            if hits and hits[-1] >= now - window
        }
        self._next_sweep = now + self._sweep_every


class Outage:
    """What a Redis window does while Redis cannot be reached: count in ``fallback``
    (this process's memory) and try Redis again only after ``retry_after`` seconds.

    Redis is a shared counter, not a part bookings depend on: an outage loosens the limits
    by the number of workers for a while and never turns a patient's request into a 500,
    and it does not cost every request a connect timeout."""

    def __init__(
        self,
        fallback: MemoryWindows,
        *,
        retry_after: float = 5.0,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self.fallback = fallback
        self._retry_after = retry_after
        self._now = now
        self._down_until = 0.0

    @property
    def down(self) -> bool:
        """Whether hits are being counted in memory because Redis was unreachable."""
        return self._now() < self._down_until

    def failed(self, exc: StorageError) -> None:
        # Logged once per outage window: the class of the error, never a key.
        log.warning(
            "rate-limit store unreachable (%s); counting in memory for %.0f s",
            type(exc.storage_error).__name__,
            self._retry_after,
        )
        self._down_until = self._now() + self._retry_after


class RedisWindows:
    """Moving windows in Redis, shared by every process (the ``limits`` library); in
    memory while Redis cannot be reached (:class:`Outage`)."""

    def __init__(
        self,
        storage: RedisStorage,
        *,
        fallback: MemoryWindows | None = None,
        retry_after: float = 5.0,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self._storage = storage
        self._limiter = MovingWindowRateLimiter(storage)
        memory = fallback if fallback is not None else MemoryWindows(now=now)
        self._outage = Outage(memory, retry_after=retry_after, now=now)

    @property
    def degraded(self) -> bool:
        return self._outage.down

    def hit(self, item: RateLimitItem, *identifiers: str) -> bool:
        if not self._outage.down:
            try:
                return self._limiter.hit(item, *identifiers)
            except StorageError as exc:
                self._outage.failed(exc)
        return self._outage.fallback.hit(item, *identifiers)

    def close(self) -> None:
        """Close the client's connections (the process is stopping)."""
        client: redis.Redis = cast("redis.Redis", self._storage.get_connection())
        client.close()

    def hit_all(self, hits: Sequence[Hit]) -> list[bool]:
        """Every hit in one pipeline (``gate/pipelined.py``)."""
        if not self._outage.down:
            try:
                return acquire_all(self._storage, hits)
            except self._storage.base_exceptions as exc:
                self._outage.failed(StorageError(exc))
        return self._outage.fallback.hit_all(hits)


class AsyncRedisWindows:
    """:class:`RedisWindows` for the event loop (``limits.aio``, redis-py's asyncio
    client): the same keys and scripts, so a subject's window is one window whether a hit
    was counted here or from a worker thread. A request counted on the event loop then
    needs no thread for it (``api/deps.py::count``, the poll lane).

    Each event loop gets its own client (a client's connections belong to the loop that
    opened them). Its outage falls back to ``fallback``, the thread side's memory windows,
    so both sides fall back to one set of windows.
    """

    def __init__(
        self,
        storage: Callable[[], AsyncRedisStorage],
        *,
        fallback: MemoryWindows,
        retry_after: float = 5.0,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self._make_storage = storage
        self._outage = Outage(fallback, retry_after=retry_after, now=now)
        self._storages: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, AsyncRedisStorage] = (
            weakref.WeakKeyDictionary()
        )

    async def hit_all(self, hits: Sequence[Hit]) -> list[bool]:
        """Every hit in one pipeline (``gate/pipelined.py``)."""
        if not self._outage.down:
            storage = self._storage()
            try:
                return await acquire_all_async(storage, hits)
            except storage.base_exceptions as exc:
                self._outage.failed(StorageError(exc))
        return self._outage.fallback.hit_all(hits)

    async def aclose(self) -> None:
        """Close this event loop's client, if it made one (the app's lifespan, at
        shutdown: its connections belong to this loop)."""
        storage = self._storages.pop(asyncio.get_running_loop(), None)
        if storage is not None:
            # limits' redis-py bridge (implementation="redispy", make_rate_limiter)
            bridge: Any = storage.bridge
            await bridge.get_connection().aclose()

    def _storage(self) -> AsyncRedisStorage:
        """This event loop's storage (made on its first hit)."""
        loop = asyncio.get_running_loop()
        found = self._storages.get(loop)
        if found is None:
            found = self._storages[loop] = self._make_storage()
        return found


class RateLimiter:
    def __init__(
        self,
        *,
        limits: str,
        windows: Windows,
        enabled: bool = True,
        on_loop: AsyncRedisWindows | None = None,
    ) -> None:
        self._items: list[RateLimitItem] = parse_many(limits) if limits else []
        self._windows = windows
        self._on_loop = on_loop  # the same windows, counted from the event loop
        self._enabled = enabled and bool(self._items)

    @property
    def waits_on_io(self) -> bool:
        """Whether a hit waits on the network (shared Redis windows): the caller must then
        not count on the event loop."""
        return self._enabled and not isinstance(self._windows, MemoryWindows)

    def hit(self, *subjects: Subject) -> None:
        """Count one request against every subject; refuse with 429 past any limit.

        Every layer is counted before deciding, so a client that keeps hammering while
        refused stays refused.
        """
        if not self._enabled:
            return
        hits = self._hits(subjects)
        counted = self._windows.hit_all(hits)
        _refuse_past([item for (item, _), ok in zip(hits, counted, strict=True) if not ok])

    async def aclose(self) -> None:
        """Close the Redis clients of these windows: the event loop's and the worker
        threads' (the app's lifespan, at shutdown; nothing to close in memory)."""
        if self._on_loop is not None:
            await self._on_loop.aclose()
        if isinstance(self._windows, RedisWindows):
            self._windows.close()

    @property
    def counts_on_loop(self) -> bool:
        """Whether :meth:`count` may be awaited on the event loop: in-memory windows, or
        Redis through its asyncio client."""
        return not self.waits_on_io or self._on_loop is not None

    async def count(self, *subjects: Subject) -> None:
        """:meth:`hit`, on the event loop (see :attr:`counts_on_loop`)."""
        if self._on_loop is None or not self._enabled:
            self.hit(*subjects)
            return
        hits = self._hits(subjects)
        counted = await self._on_loop.hit_all(hits)
        _refuse_past([item for (item, _), ok in zip(hits, counted, strict=True) if not ok])

    def _hits(self, subjects: Sequence[Subject]) -> list[Hit]:
        """Every window of every subject, subject by subject (the order of refusal)."""
        return [(item, (s.scope, s.key)) for s in subjects for item in self._items]


def _refuse_past(exceeded: list[RateLimitItem]) -> None:
    """429 ``rate_limited`` naming the first limit passed, if any was."""
    if exceeded:
        item = exceeded[0]
        raise RateLimited(
            f"Too many requests (limit {item}); wait a moment and try again.",
            detail_zh="请求过于频繁，请稍后再试。",
            retry_after=item.get_expiry(),
        )


def make_rate_limiter(
    *, limits: str, redis_url: str | None, enabled: bool, namespace: str = "fairslot"
) -> RateLimiter:
    if not redis_url:
        return RateLimiter(limits=limits, windows=MemoryWindows(), enabled=enabled)
    prefix, url = f"{namespace}:rl", redis_url
    fallback = MemoryWindows()
    # a hung Redis must not hold a request longer than a lost one; the connections are
    # named after the windows' prefix (``CLIENT LIST`` shows whose they are)
    options: dict[str, Any] = {
        "key_prefix": prefix,
        "wrap_exceptions": True,
        "socket_connect_timeout": 0.5,
        "socket_timeout": 0.5,
        "client_name": prefix,
    }

    def on_loop() -> AsyncRedisStorage:
        return AsyncRedisStorage(f"async+{url}", implementation="redispy", **options)

    return RateLimiter(
        limits=limits,
        windows=RedisWindows(RedisStorage(url, **options), fallback=fallback),
        enabled=enabled,
        on_loop=AsyncRedisWindows(on_loop, fallback=fallback),
    )
