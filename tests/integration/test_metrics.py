"""The quality metrics over two hand-built days (``factories/metrics_data.py``), read from
the database on SQLite and PostgreSQL, against figures computed by hand."""

from __future__ import annotations

import datetime as dt

import pytest

from factories.metrics_data import DAY1, DAY2, READ_AT, ZONE, MetricsPeriod, hand_built_period
from fairslot.errors import DomainError
from fairslot.metrics.schemas import QualityReport
from fairslot.metrics.service import quality, trend


@pytest.fixture
def days(db, platform) -> MetricsPeriod:
    return hand_built_period(db, platform)


def read(db, platform, **kw) -> QualityReport:
    values = {
        "date_from": DAY1,
        "date_to": DAY2,
        "tz": ZONE,
        "now": READ_AT,
        "protector": platform.protector,
    }
    values.update(kw)
    return quality(db, **values)


def test_five_of_six_attempts_ended_in_a_confirmed_booking(db, platform, days) -> None:
    # Alice, Bob (after a refusal), Dan, Eve and Frank paid; Carol held and never paid.
    figures = read(db, platform).overall
    assert (figures.booked_attempts, figures.attempts) == (5, 6)
    assert figures.success_rate == pytest.approx(5 / 6)


def test_time_to_book_runs_from_the_first_request_median_and_p90(db, platform, days) -> None:
    # Waits 30, 60, 90, 120 and 300 s (Bob's from his refused hold at 08:00).
    # Median 90; p90: rank 0.9 × 4 = 3.6 → 120 + 0.6 × (300 − 120) = 228.
    figures = read(db, platform).overall
    assert figures.time_to_book_median_s == 90.0
    assert figures.time_to_book_p90_s == pytest.approx(228.0)


def test_daily_and_monthly_active_accounts(db, platform, days) -> None:
    # Day 1: Alice, Bob, Carol, Dan; day 2: Alice (listing her patients), Eve, Frank.
    figures = read(db, platform).overall
    assert (figures.dau_mean, figures.dau_last_day, figures.mau) == (3.5, 3, 6)
    assert figures.dau_mau == pytest.approx(7 / 30 / 6)


def test_five_of_six_active_accounts_booked(db, platform, days) -> None:
    figures = read(db, platform).overall
    assert (figures.booking_accounts, figures.active_accounts) == (5, 6)


def test_retention_counts_returns_within_seven_and_thirty_days(db, platform, days) -> None:
    # Seven (account, day) pairs. Back within 7 days: Alice after day 1, Eve (day 7 of
    # her follow-up); Frank comes back after 20 days, within 30 only.
    figures = read(db, platform).overall
    assert (figures.retention_7d_retained, figures.retention_7d_cohort) == (2, 7)
    assert (figures.retention_30d_retained, figures.retention_30d_cohort) == (3, 7)


def test_retention_is_none_while_the_follow_up_runs(db, platform, days) -> None:
    early = dt.datetime(2026, 11, 25, tzinfo=dt.UTC)
    figures = read(db, platform, now=early).overall
    assert figures.retention_7d is None and figures.retention_7d_cohort == 0


def test_a_no_show_counts_against_the_no_show_rate(db, platform, days) -> None:
    figures = read(db, platform).overall
    assert (figures.checked_in, figures.no_shows, figures.no_show_rate) == (1, 1, 0.5)


def test_a_device_blacklisted_after_its_booking_counts_in_the_blacklisted_share(
    db, platform, days
) -> None:
    # Eve and Frank took the only slot of a session (sold out: scarce); Eve's device was
    # blacklisted afterwards. The slots of S1 and S4 are not all taken: not scarce.
    figures = read(db, platform).overall
    assert (figures.scarce_blacklisted, figures.scarce_taken) == (1, 2)
    assert figures.blacklisted_share == 0.5
    assert figures.bookings == 5


def test_each_hospital_and_each_channel_has_its_own_figures(db, platform, days) -> None:
    report = read(db, platform)
    by_hospital = {row.code: row.figures for row in report.hospitals}
    h, h2 = by_hospital[days.hospital.code], by_hospital[days.h2.code]
    assert set(by_hospital) == {days.hospital.code, days.h2.code}
    assert (h.booked_attempts, h.attempts, h2.booked_attempts, h2.attempts) == (4, 5, 1, 1)
    # At H: 30, 90, 120, 300 s → median 105; p90: 120 + 0.7 × 180 = 246.
    assert h.time_to_book_median_s == 105.0
    assert h.time_to_book_p90_s == pytest.approx(246.0)
    # Alice's listing on day 2 names no hospital: H counts Eve and Frank that day.
    assert (h.dau_last_day, h2.dau_last_day, h2.mau) == (2, 0, 1)
    by_channel = {row.code: row.figures for row in report.channels}
    assert by_channel[days.c2.code].attempts == 1
    assert by_channel[days.channel.code].attempts == 5
    assert by_channel[days.channel.code].no_show_rate == 0.5


def test_a_report_narrowed_to_one_hospital_reads_only_its_figures(db, platform, days) -> None:
    report = read(db, platform, hospital_id=days.h2.id)
    assert report.overall.attempts == report.overall.booked_attempts == 1
    assert report.overall.time_to_book_median_s == 60.0
    assert report.overall.no_show_rate is None
    assert [row.code for row in report.hospitals] == [days.h2.code]
    assert [row.code for row in report.channels] == [days.c2.code]


def test_the_trend_has_the_figures_of_each_day(db, platform, days) -> None:
    rows = trend(db, end=DAY2, days=3, tz=ZONE, protector=platform.protector)
    assert [r.day for r in rows] == [DAY1 - dt.timedelta(days=1), DAY1, DAY2]
    assert [(r.booked_attempts, r.attempts) for r in rows] == [(0, 0), (3, 4), (2, 2)]
    assert [r.dau for r in rows] == [0, 4, 3]
    assert [r.bookings for r in rows] == [0, 3, 2]
    assert [r.no_show_rate for r in rows] == [None, 0.5, None]
    assert [r.blacklisted_share for r in rows] == [None, None, 0.5]


def test_an_unknown_hospital_or_an_inverted_period_is_refused(db, platform, days) -> None:
    with pytest.raises(DomainError) as missing:
        read(db, platform, hospital_id=999_999)
    assert missing.value.code == "hospital_not_found"
    with pytest.raises(DomainError) as inverted:
        read(db, platform, date_from=DAY2, date_to=DAY1)
    assert inverted.value.code == "metrics_period_invalid"
