"""The daily random sample of confirmed bookings for customer service to call. Pure: no I/O.

The sample is the baseline a reviewer compares a flagged patient's call with: how genuine
patients answer. Its size is ``rate`` of the day's confirmed bookings, rounded up (so a
quiet day still gets one call), at most ``limit``.
"""

from __future__ import annotations

import math
import random
from collections.abc import Collection, Sequence
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


def day_window(day: date, *, tz: str) -> tuple[datetime, datetime]:
    """The local calendar ``day`` in zone ``tz`` as a half-open UTC interval."""
    zone = ZoneInfo(tz)
    start = datetime.combine(day, time(), tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time(), tzinfo=zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def sample_size(population: int, *, rate: float, limit: int) -> int:
    if population <= 0 or rate <= 0 or limit <= 0:
        return 0
    return min(population, limit, math.ceil(population * rate))


def choose(
    population: Sequence[str],
    *,
    already: Collection[str],
    rate: float,
    limit: int,
    rng: random.Random,
) -> list[str]:
    """The bookings to add to the day's sample so that it reaches its size.

    ``already`` are the bookings of the day sampled before: a re-run over the same day
    adds nothing, and one run after more bookings were confirmed tops the sample up to
    the size the larger day calls for. Sorted, so the caller's writes are ordered.
    """
    wanted = sample_size(len(population), rate=rate, limit=limit)
    taken = set(already) & set(population)
    missing = wanted - len(taken)
    if missing <= 0:
        return []
    fresh = sorted(set(population) - taken)
    return sorted(rng.sample(fresh, min(missing, len(fresh))))
