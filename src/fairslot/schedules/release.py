"""The release rule, computed from the clock. Pure: no I/O.

A session on local date D is pushed at ``D - days_ahead`` at ``push_time`` and released at
``D - days_ahead`` at ``release_time`` (hospital wall-clock). Booking closes
``booking_close_minutes`` before the session starts. Nothing is visible before release;
because the rule is a comparison with "now", no job has to run for a release to happen.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

# The policy is the hospital's; the rule that reads it is here (callers import it from here).
from fairslot.hospitals.release_policy import ReleasePolicy as ReleasePolicy


@dataclass(frozen=True)
class SessionTimes:
    starts_at: datetime
    ends_at: datetime
    push_at: datetime
    release_at: datetime
    closes_at: datetime


def local_to_utc(day: date, at: time, tz: str) -> datetime:
    return datetime.combine(day, at, tzinfo=ZoneInfo(tz)).astimezone(UTC)


def session_times(
    policy: ReleasePolicy, *, session_date: date, local_start: time, local_end: time
) -> SessionTimes:
    release_day = session_date - timedelta(days=policy.days_ahead)
    starts_at = local_to_utc(session_date, local_start, policy.timezone)
    release_at = local_to_utc(release_day, policy.release_time, policy.timezone)
    closes_at = starts_at - timedelta(minutes=policy.booking_close_minutes)
    return SessionTimes(
        starts_at=starts_at,
        ends_at=local_to_utc(session_date, local_end, policy.timezone),
        push_at=local_to_utc(release_day, policy.push_time, policy.timezone),
        release_at=release_at,
        # A session imported too late to be bookable is closed at its release.
        closes_at=max(closes_at, release_at),
    )


def is_released(release_at: datetime, now: datetime) -> bool:
    return now >= release_at


def slot_windows(
    *, starts_at: datetime, ends_at: datetime, capacity: int
) -> list[tuple[datetime, datetime]]:
    """Split a session into ``capacity`` numbered time windows (1-based order), on whole
    minutes so patients are told times like 09:12, not 09:12:51.4."""
    if capacity <= 0:
        return []
    minutes = int((ends_at - starts_at).total_seconds() // 60)
    bounds = [starts_at + timedelta(minutes=(i * minutes) // capacity) for i in range(capacity)]
    return [(bounds[i], bounds[i + 1] if i + 1 < capacity else ends_at) for i in range(capacity)]


def reserved_numbers(capacity: int, share: Decimal | float | str) -> list[int]:
    """Slot numbers kept for a channel's reserved share, spread evenly over the session.

    Decimal arithmetic: a float product can land a hair below a whole number
    (100 x 0.29 = 28.999...) and lose a slot.
    """
    count = int(capacity * Decimal(str(share)))
    if count <= 0:
        return []
    return sorted({capacity - int(i * capacity / count) for i in range(count)})


def late_release_at(
    *, now: datetime, closes_at: datetime, rng: random.Random, min_minutes: int, max_minutes: int
) -> datetime:
    """When a slot pushed after its release time goes on sale: after a random delay.

    Supply that appears late (a late push, a raised capacity) would otherwise go to
    whoever polls fastest at the instant of the push. The delay is drawn uniformly, like a
    returned slot's, and kept before booking closes so the slot can still be booked.
    """
    low, high = sorted((min_minutes * 60, max_minutes * 60))
    room = int((closes_at - now).total_seconds()) - 1
    if room <= 0:
        return now
    return now + timedelta(seconds=rng.randint(min(low, room), min(high, room)))


def next_release_instant(policy: ReleasePolicy, *, now: datetime) -> datetime:
    """The first release time (``release_time`` in the hospital's zone) after ``now``."""
    zone = ZoneInfo(policy.timezone)
    today = now.astimezone(zone).date()
    candidate = local_to_utc(today, policy.release_time, policy.timezone)
    if candidate <= now:
        candidate = local_to_utc(today + timedelta(days=1), policy.release_time, policy.timezone)
    return candidate
