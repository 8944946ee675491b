"""The sign-in throttle's decision: growing delays per (username, address) pair and per
address, and the address as it is counted and shown."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from fairslot.staff.throttle import (
    Failures,
    ThrottlePolicy,
    address_label,
    address_scope,
    delay_after,
    retry_after,
)

NOW = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
POLICY = ThrottlePolicy(
    free_failures=5,
    address_free_failures=20,
    base_delay=timedelta(seconds=1),
    max_delay=timedelta(minutes=15),
)


def test_the_first_failures_of_a_pair_cost_nothing() -> None:
    assert (
        retry_after(
            Failures(pair=4, pair_last=NOW, address=4, address_last=NOW), now=NOW, policy=POLICY
        )
        is None
    )


@pytest.mark.parametrize(("failures", "seconds"), [(5, 1), (6, 2), (7, 4), (10, 32), (15, 900)])
def test_each_failure_past_the_free_ones_doubles_the_wait_up_to_the_cap(
    failures: int, seconds: int
) -> None:
    assert delay_after(failures, free=5, policy=POLICY) == timedelta(seconds=seconds)
    assert retry_after(Failures(pair=failures, pair_last=NOW), now=NOW, policy=POLICY) == seconds


def test_a_wait_counts_from_the_latest_failure_and_ends() -> None:
    failures = Failures(pair=7, pair_last=NOW - timedelta(seconds=3))  # waits 4 s in all
    assert retry_after(failures, now=NOW, policy=POLICY) == 1
    assert retry_after(failures, now=NOW + timedelta(seconds=1), policy=POLICY) is None


def test_an_address_failing_across_usernames_is_slowed_from_its_own_threshold() -> None:
    rotating = Failures(pair=1, pair_last=NOW, address=19, address_last=NOW)
    assert retry_after(rotating, now=NOW, policy=POLICY) is None
    rotating = Failures(pair=1, pair_last=NOW, address=22, address_last=NOW)
    assert retry_after(rotating, now=NOW, policy=POLICY) == 4


def test_a_huge_count_stays_at_the_cap() -> None:
    assert delay_after(10**9, free=5, policy=POLICY) == timedelta(minutes=15)


def test_an_address_is_counted_whole_for_ipv4_and_by_its_64_for_ipv6() -> None:
    assert address_scope("203.0.113.77") == "203.0.113.77"
    assert address_scope("2001:db8:1:2:aaaa::1") == address_scope("2001:db8:1:2:bbbb::9")
    assert address_scope("2001:db8:1:2:aaaa::1") == "2001:db8:1:2::/64"
    assert address_scope("::ffff:203.0.113.77") == "203.0.113.77"
    assert address_scope(None) == address_scope("not an address") == "unknown"


def test_people_see_the_address_masked() -> None:
    assert address_label("203.0.113.77") == "203.0.113.x"
    assert address_label("2001:0db8:0001:0002:aaaa::1") == "2001:db8:1:2::x"
    assert address_label(None) == "unknown"
