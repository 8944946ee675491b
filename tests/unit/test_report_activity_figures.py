"""The daily report's picture figures and thresholds, without a database."""

from __future__ import annotations

import datetime as dt

import pytest

from fairslot.risk.facts import RiskSettings
from fairslot.risk.report_activity import (
    OTHER,
    Ban,
    RequestBucket,
    ScarceBooking,
    Taker,
    activity,
    day_hours,
    refusals,
    release_instants,
    release_window,
    scarce_takers,
    taker_of,
)
from fairslot.risk.report_thresholds import figure, parameters, threshold
from fairslot.risk.rings import RingSettings

DAY = dt.date(2026, 11, 23)
ZONE = "Asia/Shanghai"
UTC = dt.UTC


def test_the_release_window_spans_the_releases_of_every_hospital() -> None:
    instants = release_instants(
        DAY, [(dt.time(0, 30), ZONE), (dt.time(0, 30), ZONE), (dt.time(7, 0), ZONE)]
    )
    assert instants == [
        dt.datetime(2026, 11, 22, 16, 30, tzinfo=UTC),
        dt.datetime(2026, 11, 22, 23, 0, tzinfo=UTC),
    ]
    window = release_window(DAY, ZONE, instants)
    assert window.start == dt.datetime(2026, 11, 22, 16, 20, tzinfo=UTC)
    assert window.count == 180  # capped: a per-minute picture of seven hours reads as noise


def test_without_hospitals_the_window_is_the_default_release_hour() -> None:
    window = release_window(DAY, ZONE, [])
    assert (window.start, window.count) == (dt.datetime(2026, 11, 22, 16, 20, tzinfo=UTC), 60)


def test_a_day_the_clocks_change_has_25_hours() -> None:
    assert day_hours(dt.date(2026, 10, 25), "Europe/Berlin").count == 25
    assert day_hours(DAY, ZONE).count == 24


def test_counts_land_in_their_bucket_and_outsiders_are_dropped() -> None:
    hours = day_hours(DAY, ZONE)
    data = activity(
        hours,
        requests=[
            RequestBucket(bucket=0, lookup=True, refused=False, count=3),
            RequestBucket(bucket=0, lookup=False, refused=True, count=2),
            RequestBucket(bucket=99, lookup=False, refused=False, count=7),
        ],
        booked=[(0, 1), (-1, 5)],
        marks=[hours.start, hours.end],
    )
    assert (data.lookups[0], data.actions[0], data.refused[0], data.booked[0]) == (3, 2, 2, 1)
    assert data.requests == 5
    assert data.marks == (hours.start,)


def test_refusals_keep_the_top_reasons_and_fold_the_rest() -> None:
    found = refusals([(f"code_{n}", n) for n in range(1, 13)], top=4)
    assert found.reasons == (("code_12", 12), ("code_11", 11), ("code_10", 10), (OTHER, 45))
    assert found.total == sum(range(1, 13))


def _booking(place: str, *ids: tuple[str, str], at: int = 0) -> ScarceBooking:
    return ScarceBooking(
        booking_id=f"b{at}",
        booked_at=dt.datetime(2026, 11, 22, 16, 31, tzinfo=UTC) + dt.timedelta(minutes=at),
        place=place,
        identities=ids,
    )


def test_a_blacklisting_outranks_a_flag_and_an_ended_ban_counts_only_before_it_ended() -> None:
    both = _booking("A", ("device", "d1"), ("account", "account:1"))
    bans = {("device", "d1"): [Ban(scope="device", key="d1", ends_at=None)]}
    assert taker_of(both, bans=bans, flagged={("account", "account:1")}) is Taker.BLACKLISTED
    ended = {("device", "d1"): [Ban(scope="device", key="d1", ends_at=both.booked_at)]}
    assert taker_of(both, bans=ended, flagged=set()) is Taker.GENUINE
    assert taker_of(both, bans={}, flagged={("account", "account:1")}) is Taker.FLAGGED


def test_scarce_takers_rank_departments_and_fold_the_rest() -> None:
    bookings = [_booking(place, ("patient", f"p{n}"), at=n) for n, place in enumerate("AAABBC")]
    found = scarce_takers(bookings, bans={}, flagged={("patient", "p0")}, top=2)
    assert [(p.place, p.genuine, p.flagged) for p in found.places] == [("A", 2, 1), (OTHER, 3, 0)]
    assert found.total == 6


@pytest.mark.parametrize(
    ("rule", "kind", "score", "expected"),
    [
        ("same_payment_same_department", "payment_account", 1.4, (7, 5)),
        ("patient_across_departments", "patient", 1.2, (6, 5)),
        ("sex_mismatch", "patient", 1.5, (3, 2)),
        ("cancellations_without_visit", "account", 1.0, (5, 5)),
        ("transfer", "device", 3.0, (3, 1)),
        ("transfer", "phone", 1.5, (3, 2)),
        ("ring", "ring", 1.5, (6, 4)),
        ("realtime_review", "device", 1.25, (None, None)),
        ("a_rule_of_a_newer_batch", "patient", 1.0, (None, None)),
    ],
)
def test_an_alerts_figure_is_its_score_times_the_threshold(
    rule: str, kind: str, score: float, expected: tuple[int | None, int | None]
) -> None:
    limit = threshold(rule, kind, risk=RiskSettings(), ring=RingSettings())
    assert (figure(score, limit), limit) == expected


def test_every_rule_names_its_window() -> None:
    assert parameters("transfer", risk=RiskSettings(), ring=RingSettings()) == {
        "days": 7,
        "strong": 1,
        "weak": 2,
        "minutes": 240,
    }
    assert parameters("unknown", risk=RiskSettings(), ring=RingSettings()) == {"days": 7}
