"""Request-rate limits per account, device and network, layered (e.g. per second and per
minute), with the ``limits`` library: in memory by default, in Redis when configured so
that every worker process shares the same counters.

Availability queries count like any other request, so polling for returned slots is
throttled too.
"""

from __future__ import annotations

from dataclasses import dataclass

from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage, RedisStorage, Storage
from limits.strategies import MovingWindowRateLimiter

from fairslot.errors import DomainError


class RateLimited(DomainError):
    code = "rate_limited"
    status = 429


@dataclass(frozen=True)
class Subject:
    scope: str  # "account", "device", "ip"
    key: str


class RateLimiter:
    def __init__(self, *, limits: str, storage: Storage, enabled: bool = True) -> None:
        self._items: list[RateLimitItem] = parse_many(limits) if limits else []
        self._limiter = MovingWindowRateLimiter(storage)
        self._enabled = enabled and bool(self._items)

    def hit(self, *subjects: Subject) -> None:
        """Count one request against every subject; refuse with 429 past any limit.

        Every layer is counted before deciding, so a client that keeps hammering while
        refused stays refused.
        """
        if not self._enabled:
            return
        exceeded: list[tuple[Subject, RateLimitItem]] = []
        for subject in subjects:
            for item in self._items:
                if not self._limiter.hit(item, subject.scope, subject.key):
                    exceeded.append((subject, item))
        if exceeded:
            _, item = exceeded[0]
            raise RateLimited(
                f"Too many requests (limit {item}); wait a moment and try again.",
                detail_zh="请求过于频繁，请稍后再试。",
                retry_after=item.get_expiry(),
            )


def make_rate_limiter(
    *, limits: str, redis_url: str | None, enabled: bool, namespace: str = "fairslot"
) -> RateLimiter:
    storage: Storage = (
        RedisStorage(redis_url, key_prefix=f"{namespace}:rl") if redis_url else MemoryStorage()
    )
    return RateLimiter(limits=limits, storage=storage, enabled=enabled)
