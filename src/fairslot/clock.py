"""Every "now" in fairslot comes from a Clock, so tests can travel in time.

Clocks only ever return timezone-aware UTC datetimes.
"""

from __future__ import annotations

import threading
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


def ensure_utc(value: datetime) -> datetime:
    """Return ``value`` in UTC; naive datetimes are refused rather than guessed."""
    if value.tzinfo is None:
        raise ValueError("naive datetime: fairslot only handles timezone-aware datetimes")
    return value.astimezone(UTC)
