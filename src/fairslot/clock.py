"""Every "now" in fairslot comes from a Clock, so tests can travel in time.

Clocks only ever return timezone-aware UTC datetimes.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class ManualClock:
    """A clock that only moves when told to; thread-safe for concurrency tests."""

    def __init__(self, start: datetime) -> None:
        self._now = ensure_utc(start)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def set(self, when: datetime) -> None:
        with self._lock:
            self._now = ensure_utc(when)

    def advance(self, delta: timedelta) -> datetime:
        with self._lock:
            self._now += delta
            return self._now


class AcceleratedClock:
    """Simulated time for the red-team simulator (``fairslot simulate``).

    It reads ``start`` at the real instant ``anchor`` and runs ``speed`` simulated seconds
    per real second; at each simulated instant of ``changes`` the speed becomes the one
    given (slow around a release, where the race is, fast elsewhere). The anchor is a
    wall-clock instant, not a process's start, so every process given the same values
    (the server, its workers, the simulator's actors) reads the same simulated time.
    Every duration the platform keeps (hold expiry, random cooling, draw windows) passes
    in simulated time. Never used in production (see ``bootstrap.clock_from_settings``).
    """

    def __init__(
        self,
        *,
        start: datetime,
        speed: float,
        anchor: datetime | None = None,
        changes: Sequence[tuple[datetime, float]] = (),
        wall: Callable[[], datetime] | None = None,
    ) -> None:
        self._wall = wall or (lambda: datetime.now(UTC))
        self.start = ensure_utc(start)
        self.anchor = ensure_utc(anchor) if anchor is not None else ensure_utc(self._wall())
        # (simulated from, real from, speed), in order.
        self._segments = [(self.start, self.anchor, _positive(speed))]
        for at, new_speed in changes:
            sim_from, real_from, old_speed = self._segments[-1]
            at = ensure_utc(at)
            if at <= sim_from:
                raise ValueError("speed changes must come after the start, in order")
            real_at = real_from + (at - sim_from) / old_speed
            self._segments.append((at, real_at, _positive(new_speed)))

    def now(self) -> datetime:
        real = ensure_utc(self._wall())
        sim_from, real_from, speed = next(
            (s for s in reversed(self._segments) if s[1] <= real), self._segments[0]
        )
        return sim_from + (real - real_from) * speed

    def real_instant(self, when: datetime) -> datetime:
        """The real instant at which the simulated clock reads ``when``."""
        when = ensure_utc(when)
        sim_from, real_from, speed = next(
            (s for s in reversed(self._segments) if s[0] <= when), self._segments[0]
        )
        return real_from + (when - sim_from) / speed

    def real_seconds_until(self, when: datetime) -> float:
        return (self.real_instant(when) - ensure_utc(self._wall())).total_seconds()


def _positive(speed: float) -> float:
    if not speed > 0:
        raise ValueError("the simulation clock's speed must be positive")
    return float(speed)


def ensure_utc(value: datetime) -> datetime:
    """Return ``value`` in UTC; naive datetimes are refused rather than guessed."""
    if value.tzinfo is None:
        raise ValueError("naive datetime: fairslot only handles timezone-aware datetimes")
    return value.astimezone(UTC)
