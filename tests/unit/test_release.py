"""The release rule: when a session is pushed, released and closed. No database."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest

from fairslot.schedules.release import (
    ReleasePolicy,
    reserved_numbers,
    session_times,
    slot_windows,
)
from fairslot.schedules.reservations import assign_reserved

SHANGHAI = ReleasePolicy()


def _utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_a_session_is_pushed_at_midnight_and_released_at_half_past_seven_days_before() -> None:
    times = session_times(
        SHANGHAI, session_date=date(2026, 11, 25), local_start=time(8), local_end=time(12)
    )

    # Shanghai is UTC+8 all year: 2026-11-18 00:00 / 00:30 local.
    assert times.push_at == _utc(2026, 11, 17, 16, 0)
    assert times.release_at == _utc(2026, 11, 17, 16, 30)
    assert times.starts_at == _utc(2026, 11, 25, 0, 0)
    assert times.ends_at == _utc(2026, 11, 25, 4, 0)


def test_booking_closes_the_configured_minutes_before_the_session_starts() -> None:
    policy = ReleasePolicy(booking_close_minutes=90)

    times = session_times(
        policy, session_date=date(2026, 11, 25), local_start=time(14), local_end=time(17)
    )

    assert times.closes_at == times.starts_at - timedelta(minutes=90)
    assert times.closes_at == _utc(2026, 11, 25, 4, 30)


def test_days_ahead_sets_how_many_days_before_the_session_it_is_released() -> None:
    policy = ReleasePolicy(days_ahead=3, release_time=time(7, 0), push_time=time(6, 0))

    times = session_times(
        policy, session_date=date(2026, 11, 25), local_start=time(8), local_end=time(12)
    )

    assert times.release_at == _utc(2026, 11, 21, 23, 0)  # 2026-11-22 07:00 Shanghai
    assert times.push_at == _utc(2026, 11, 21, 22, 0)


def test_same_day_release_with_days_ahead_zero() -> None:
    policy = ReleasePolicy(days_ahead=0, release_time=time(6, 0))

    times = session_times(
        policy, session_date=date(2026, 11, 25), local_start=time(8), local_end=time(12)
    )

    assert times.release_at == _utc(2026, 11, 24, 22, 0)
    assert times.release_at < times.closes_at < times.starts_at


def test_times_follow_the_hospital_zone_including_its_daylight_saving_change() -> None:
    berlin = ReleasePolicy(timezone="Europe/Berlin")

    # The session is in summer time (UTC+2), its release a week earlier in winter (UTC+1).
    times = session_times(
        berlin, session_date=date(2026, 3, 30), local_start=time(8), local_end=time(12)
    )

    assert times.starts_at == _utc(2026, 3, 30, 6, 0)
    assert times.release_at == _utc(2026, 3, 22, 23, 30)


def test_a_session_pushed_too_late_to_book_closes_at_its_release() -> None:
    # Released at 09:00 on the day itself, but booking would close at 07:30.
    policy = ReleasePolicy(days_ahead=0, push_time=time(9), release_time=time(9))

    times = session_times(
        policy, session_date=date(2026, 11, 25), local_start=time(8), local_end=time(12)
    )

    assert times.closes_at == times.release_at  # the claim needs release_at <= now < closes_at


def test_slot_windows_split_the_session_evenly_in_number_order() -> None:
    start, end = _utc(2026, 11, 25, 0), _utc(2026, 11, 25, 4)

    windows = slot_windows(starts_at=start, ends_at=end, capacity=8)

    assert len(windows) == 8
    assert windows[0] == (start, start + timedelta(minutes=30))
    assert windows[-1][1] == end
    assert all(a[1] == b[0] for a, b in itertools.pairwise(windows))
    assert slot_windows(starts_at=start, ends_at=end, capacity=0) == []


def test_reserved_numbers_take_the_share_spread_over_the_session() -> None:
    numbers = reserved_numbers(20, 0.2)

    assert numbers == [5, 10, 15, 20]
    assert reserved_numbers(20, 0.0) == []
    assert reserved_numbers(3, 0.1) == []  # less than one slot


def test_channels_get_disjoint_reserved_slots_and_a_collision_takes_the_next_free_number() -> None:
    numbers = list(range(1, 21))

    reserved = assign_reserved(numbers, shares=[(1, Decimal("0.2")), (2, Decimal("0.1"))])

    first = sorted(n for n, channel in reserved.items() if channel == 1)
    second = sorted(n for n, channel in reserved.items() if channel == 2)
    assert first == [5, 10, 15, 20]
    # Channel 2 wanted 10 and 20, both taken: it gets 11 and (nothing above 20) 19.
    assert second == [11, 19]


def test_reserved_slots_map_onto_the_numbers_given() -> None:
    reserved = assign_reserved([21, 22, 23, 24, 25], shares=[(7, Decimal("0.4"))])

    assert reserved == {23: 7, 25: 7}


def test_a_share_is_counted_exactly_despite_float_rounding() -> None:
    # 100 x 0.29 is 28.999... in floating point; the channel is owed 29 slots.
    reserved = assign_reserved(list(range(1, 101)), shares=[(1, Decimal("0.29"))])

    assert len(reserved) == 29


def test_reservations_stop_when_every_slot_is_reserved() -> None:
    shares = [(1, Decimal("0.9")), (2, Decimal("0.9"))]

    reserved = assign_reserved(list(range(1, 11)), shares=shares)

    assert sorted(reserved) == list(range(1, 11))
    assert sum(1 for channel in reserved.values() if channel == 1) == 9


@pytest.mark.parametrize("capacity", [1, 7, 50, 500])
def test_assigned_reservations_never_exceed_the_capacity(capacity: int) -> None:
    shares = [(1, Decimal("0.3")), (2, Decimal("0.3")), (3, Decimal("0.3"))]

    reserved = assign_reserved(list(range(1, capacity + 1)), shares=shares)

    assert set(reserved) <= set(range(1, capacity + 1))
    assert len(reserved) == sum(int(capacity * 0.3 + 1e-9) for _ in range(3))


def test_late_supply_is_released_after_a_random_delay_within_the_range() -> None:
    import random

    from fairslot.schedules.release import late_release_at

    now = datetime(2026, 11, 22, 2, 0, tzinfo=UTC)
    closes = now + timedelta(hours=6)
    rng = random.Random(3)
    times = [
        late_release_at(now=now, closes_at=closes, rng=rng, min_minutes=5, max_minutes=60)
        for _ in range(500)
    ]
    assert all(now + timedelta(minutes=5) <= t <= now + timedelta(minutes=60) for t in times)
    assert len(set(times)) > 100  # not one predictable instant


def test_late_supply_shortly_before_closing_still_goes_on_sale_before_it_closes() -> None:
    import random

    from fairslot.schedules.release import late_release_at

    now = datetime(2026, 11, 22, 2, 0, tzinfo=UTC)
    closes = now + timedelta(minutes=3)
    at = late_release_at(
        now=now, closes_at=closes, rng=random.Random(1), min_minutes=5, max_minutes=60
    )
    assert now <= at < closes
    assert (
        late_release_at(
            now=closes, closes_at=closes, rng=random.Random(1), min_minutes=5, max_minutes=60
        )
        == closes
    )
