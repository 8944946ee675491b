"""The quality figures (``metrics/rules.py``) on small hand-built facts, against figures
computed by hand. No database."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from fairslot.metrics.facts import (
    Activity,
    AttemptRecord,
    Attendance,
    Ban,
    Booked,
    Facts,
    Period,
    Scope,
    assemble_attempts,
)
from fairslot.metrics.rules import (
    Figures,
    ban_index,
    blacklisted_share,
    ever_blacklisted,
    figures,
    percentile,
    retention,
    trend,
)

D1 = date(2026, 11, 20)
D2 = date(2026, 11, 21)
D3 = date(2026, 11, 22)
WEEK = Period(D1, D3)
EVERYONE = Scope()
LAST_COMPLETE = date(2027, 1, 31)  # every follow-up has ended


def at(day: date, hh: int, mm: int = 0, ss: int = 0) -> datetime:
    """A Shanghai wall-clock time, in UTC (the facts carry UTC instants)."""
    return datetime(day.year, day.month, day.day, hh, mm, ss, tzinfo=UTC) - timedelta(hours=8)


def record(account: int, day: date, first_at: datetime, **kw: Any) -> AttemptRecord:
    values: dict[str, Any] = {
        "channel_id": 1,
        "account_id": account,
        "patient_key": f"p{account}",
        "day": day,
        "first_at": first_at,
        "hospital_id": 1,
    }
    values.update(kw)
    return AttemptRecord(**values)


def booked(account: int, held_at: datetime, booked_at: datetime, **kw: Any) -> Booked:
    values: dict[str, Any] = {
        "booking_id": f"b{account}-{held_at.isoformat()}",
        "channel_id": 1,
        "account_id": account,
        "patient_key": f"p{account}",
        "hospital_id": 1,
        "held_at": held_at,
        "held_day": (held_at + timedelta(hours=8)).date(),
        "booked_at": booked_at,
        "booked_day": (booked_at + timedelta(hours=8)).date(),
    }
    values.update(kw)
    return Booked(**values)


def active(account: int, *days: date, hospital_id: int | None = None) -> list[Activity]:
    return [
        Activity(account_id=account, day=d, channel_id=1, hospital_id=hospital_id) for d in days
    ]


def facts_of(
    records: Sequence[AttemptRecord] = (), bookings: Sequence[Booked] = (), **kw: Any
) -> Facts:
    return Facts(
        attempts=tuple(assemble_attempts(records, bookings)),
        bookings=tuple(bookings),
        **kw,
    )


def quality(facts: Facts, scope: Scope = EVERYONE, period: Period = WEEK) -> Figures:
    return figures(facts, period=period, scope=scope, last_complete=LAST_COMPLETE)


def test_median_and_p90_of_the_time_to_book_are_those_computed_by_hand() -> None:
    # Four accounts book 30 s, 60 s, 2 min and 5 min after their first hold.
    # Median: (60 + 120) / 2 = 90. p90: rank 0.9 × 3 = 2.7 → 120 + 0.7 × (300 − 120) = 246.
    start = at(D1, 8)
    waits = {1: 30, 2: 60, 3: 120, 4: 300}
    records = [record(a, D1, start) for a in waits]
    bookings = [booked(a, start, start + timedelta(seconds=s)) for a, s in waits.items()]
    result = quality(facts_of(records, bookings))
    assert result.time_to_book_median_s == 90.0
    assert result.time_to_book_p90_s == pytest.approx(246.0)


def test_percentiles_interpolate_between_ranks_and_are_none_without_values() -> None:
    assert percentile([10.0], 90) == 10.0
    assert percentile([0.0, 10.0], 50) == 5.0
    assert percentile([], 50) is None


def test_no_data_gives_none_for_every_ratio_not_a_zero_or_a_crash() -> None:
    result = quality(Facts())
    assert result.success.rate is None
    assert result.time_to_book_median_s is result.time_to_book_p90_s is None
    assert (result.dau_mean, result.dau_last_day, result.mau) == (0.0, 0, 0)
    assert result.dau_mau is None
    assert result.booking_accounts.rate is None
    assert result.retention_7d.rate is result.retention_30d.rate is None
    assert result.no_shows.rate is None
    assert result.blacklisted.rate is None


def test_an_attempt_that_never_got_a_booking_counts_against_the_success_rate() -> None:
    # Accounts 1 and 2 book; 3 tries three times that day and never pays: one attempt.
    start = at(D1, 8)
    records = [record(1, D1, start), record(2, D1, start)]
    records += [record(3, D1, start + timedelta(minutes=m)) for m in (0, 1, 2)]
    bookings = [booked(a, start, start + timedelta(minutes=1)) for a in (1, 2)]
    result = quality(facts_of(records, bookings)).success
    assert (result.part, result.whole) == (2, 3)
    assert result.rate == pytest.approx(2 / 3)


def test_the_same_patient_on_two_days_is_two_attempts() -> None:
    records = [record(1, D1, at(D1, 8)), record(1, D2, at(D2, 8))]
    bookings = [booked(1, at(D2, 8), at(D2, 8, 2))]
    result = quality(facts_of(records, bookings)).success
    assert (result.part, result.whole) == (1, 2)


def test_a_hold_placed_before_midnight_and_paid_after_counts_for_the_day_it_was_placed() -> None:
    records = [record(1, D1, at(D1, 23, 58))]
    bookings = [booked(1, at(D1, 23, 58), at(D2, 0, 1))]
    result = quality(facts_of(records, bookings))
    assert (result.success.part, result.success.whole) == (1, 1)
    assert result.time_to_book_median_s == 180.0


def test_the_wait_runs_from_the_first_refused_hold_not_from_the_hold_that_worked() -> None:
    # Refused at 08:00 (sold out, no slot named), held another slot at 08:10, paid 08:11.
    records = [record(1, D1, at(D1, 8), hospital_id=None), record(1, D1, at(D1, 8, 10))]
    bookings = [booked(1, at(D1, 8, 10), at(D1, 8, 11))]
    assert quality(facts_of(records, bookings)).time_to_book_median_s == 660.0


def test_a_booking_held_before_the_first_request_of_the_day_is_not_its_outcome() -> None:
    records = [record(1, D1, at(D1, 9))]
    bookings = [booked(1, at(D1, 7), at(D1, 7, 1))]
    assert quality(facts_of(records, bookings)).success.part == 0


def test_per_hospital_an_attempt_counts_where_it_asked_and_where_it_booked() -> None:
    # Account 1 tried hospital 1 (refused) and booked at hospital 2 the same day.
    records = [record(1, D1, at(D1, 8), hospital_id=1), record(1, D1, at(D1, 8, 5), hospital_id=2)]
    bookings = [booked(1, at(D1, 8, 5), at(D1, 8, 6), hospital_id=2)]
    facts = facts_of(records, bookings)
    first, second = (quality(facts, Scope(hospital_id=h)).success for h in (1, 2))
    assert (first.part, first.whole) == (0, 1)
    assert (second.part, second.whole) == (1, 1)
    assert quality(facts).success.rate == 1.0
    assert quality(facts, Scope(channel_id=2)).success.whole == 0


def test_daily_and_monthly_active_accounts_and_their_ratio() -> None:
    # Account 1 active on D1, D2, D3; account 2 on D3; account 3 on D1; account 4 a month
    # before D3 (outside the 30 days ending D3: not monthly active).
    activity = (
        *active(1, D1, D2, D3),
        *active(2, D3),
        *active(3, D1),
        *active(4, D3 - timedelta(days=30)),
    )
    result = quality(Facts(activity=activity))
    assert result.dau_mean == pytest.approx((2 + 1 + 2) / 3)
    assert result.dau_last_day == 2
    assert result.mau == 3
    # Mean DAU over the 30 days ending D3: 5 account-days / 30; ÷ MAU 3.
    assert result.dau_mau == pytest.approx(5 / 30 / 3)


def test_share_of_active_accounts_that_book() -> None:
    activity = (*active(1, D1), *active(2, D2), *active(3, D3), *active(4, D3))
    # 1 books in the period; 2 books after it; 9 books but made no request (a draw).
    bookings = (
        booked(1, at(D1, 8), at(D1, 8, 1)),
        booked(2, at(D3 + timedelta(days=1), 8), at(D3 + timedelta(days=1), 8, 1)),
        booked(9, at(D2, 8), at(D2, 8, 1)),
    )
    share = quality(Facts(activity=activity, bookings=bookings)).booking_accounts
    assert (share.part, share.whole) == (1, 4)


def test_retention_follows_each_active_day_and_leaves_out_days_still_being_followed() -> None:
    d = date(2026, 11, 1)
    days = {
        1: [d, d + timedelta(days=3)],  # back on day 3: retained from d (7 d and 30 d)
        2: [d, d + timedelta(days=10)],  # back on day 10: retained in 30 d only
        3: [d],  # never back
    }
    period = Period(d, d + timedelta(days=3))
    last_complete = d + timedelta(days=30)
    seven = retention(days, period=period, horizon=7, last_complete=last_complete)
    thirty = retention(days, period=period, horizon=30, last_complete=last_complete)
    # 7-day cohort: (1, d), (2, d), (3, d), (1, d+3) → retained (1, d) only.
    assert (seven.part, seven.whole) == (1, 4)
    # 30-day cohort: only day d has been followed for 30 days → (1, d), (2, d) retained.
    assert (thirty.part, thirty.whole) == (2, 3)


def test_a_return_on_the_last_day_of_the_horizon_counts_and_one_day_later_does_not() -> None:
    d = date(2026, 11, 1)
    days = {1: [d, d + timedelta(days=7)], 2: [d, d + timedelta(days=8)]}
    period = Period(d, d)
    # The follow-up of d ends on d + 7: complete once d + 7 has ended, not before.
    seven = retention(days, period=period, horizon=7, last_complete=d + timedelta(days=7))
    assert (seven.part, seven.whole) == (1, 2)
    early = retention(days, period=period, horizon=7, last_complete=d + timedelta(days=6))
    assert early.whole == 0


def test_retention_of_a_period_whose_follow_up_has_not_ended_is_none() -> None:
    days = {1: [D1, D2]}
    result = retention(days, period=WEEK, horizon=7, last_complete=D3)
    assert result.whole == 0 and result.rate is None


def test_a_no_show_counts_against_the_no_show_rate() -> None:
    attendance = (
        Attendance(hospital_id=1, channel_id=1, day=D1, checked_in=3, no_show=1),
        Attendance(hospital_id=2, channel_id=1, day=D2, checked_in=0, no_show=1),
        Attendance(
            hospital_id=1, channel_id=1, day=D3 + timedelta(days=1), checked_in=0, no_show=5
        ),
    )
    facts = Facts(attendance=attendance)
    assert quality(facts).no_shows.rate == pytest.approx(2 / 5)
    assert quality(facts, Scope(hospital_id=1)).no_shows.rate == pytest.approx(1 / 4)


def test_an_identity_blacklisted_after_the_booking_or_still_on_the_list_is_counted() -> None:
    booked_at = at(D1, 8)
    before, after = booked_at - timedelta(days=1), booked_at + timedelta(days=1)
    bans = ban_index(
        [
            Ban(scope="device", key="dev-late", created_at=after, ends_at=None),
            Ban(scope="payment", key="pay-on", created_at=before, ends_at=None),
            Ban(scope="phone", key="ph-lifted", created_at=before, ends_at=booked_at),
            Ban(scope="account", key="account:7", created_at=before, ends_at=after),
        ]
    )

    def hit(*identity: str) -> bool:
        return ever_blacklisted([(identity[0], identity[1])], booked_at=booked_at, bans=bans)

    assert hit("device", "dev-late")  # blacklisted after the booking
    assert hit("payment", "pay-on")  # on the list before and still now
    assert hit("account", "account:7")  # still in force at the booking, lifted later
    assert not hit("phone", "ph-lifted")  # lifted by the time of the booking
    assert not hit("device", "pay-on")  # a key counts only under its own scope


def test_the_blacklisted_share_reads_only_scarce_slots() -> None:
    start = at(D1, 8)
    bookings = (
        booked(1, start, start, scarce=True, blacklisted=True),
        booked(2, start, start, scarce=True),
        booked(3, start, start, scarce=True),
        booked(4, start, start, scarce=False, blacklisted=True),
    )
    share = blacklisted_share(bookings, scope=EVERYONE, days={D1})
    assert (share.part, share.whole) == (1, 3)


def test_the_trend_has_one_row_per_day_empty_days_included() -> None:
    records = [record(1, D1, at(D1, 8)), record(2, D3, at(D3, 8))]
    bookings = [booked(1, at(D1, 8), at(D1, 8, 1), scarce=True, blacklisted=True)]
    attendance = (Attendance(hospital_id=1, channel_id=1, day=D3, checked_in=1, no_show=1),)
    facts = facts_of(
        records, bookings, activity=(*active(1, D1), *active(2, D3)), attendance=attendance
    )
    rows = trend(facts, period=WEEK, scope=EVERYONE)
    assert [r.day for r in rows] == [D1, D2, D3]
    assert [(r.success.part, r.success.whole) for r in rows] == [(1, 1), (0, 0), (0, 1)]
    assert [r.dau for r in rows] == [1, 0, 1]
    assert [r.bookings for r in rows] == [1, 0, 0]
    assert [r.no_shows.rate for r in rows] == [None, None, 0.5]
    assert [r.blacklisted.rate for r in rows] == [1.0, None, None]
