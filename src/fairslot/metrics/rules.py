"""The quality figures of the Tulip report (issue 10). Pure: facts in, figures out.

Each figure's exact definition is the docstring of the function that computes it; the
facts are in :mod:`fairslot.metrics.facts`. A ratio over nothing (no attempt, no active
account, no attended session) is None — "no data" — never 0, never a division error.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Container, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from fairslot.metrics.facts import (
    DAY,
    Activity,
    Attempt,
    Attendance,
    Ban,
    Booked,
    Facts,
    Period,
    Scope,
)

MAU_DAYS = 30
RETENTION_HORIZONS = (7, 30)
# The scopes a blacklisted identity counts under (the network scope is left out: a shared
# proxy or a hospital's guest Wi-Fi is no one's identity).
IDENTITY_SCOPES = ("patient", "phone", "account", "device", "payment")


def ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q``-th percentile (0..100), interpolating linearly between the two nearest
    ranks (numpy's default, as ``bench/stats.py``); None without values."""
    if not 0 <= q <= 100:
        raise ValueError("a percentile is between 0 and 100")
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def ban_index(bans: Iterable[Ban]) -> dict[tuple[str, str], list[Ban]]:
    index: dict[tuple[str, str], list[Ban]] = defaultdict(list)
    for ban in bans:
        index[(ban.scope, ban.key)].append(ban)
    return dict(index)


def ever_blacklisted(
    identities: Iterable[tuple[str, str]],
    *,
    booked_at: datetime,
    bans: Mapping[tuple[str, str], Sequence[Ban]],
) -> bool:
    """Whether a booking was taken by a blacklisted identity: one of its identities
    (``(scope, stored key)``: the patient, the patient's and the account's phones, the
    account, the device, the payment account) has a blacklist entry in force at some moment
    at or after the confirmation — added later, or added earlier and not yet lifted or
    expired by then; an entry still on the list now always counts."""
    return any(
        ban.ends_at is None or ban.ends_at > booked_at
        for identity in identities
        for ban in bans.get(identity, ())
    )


@dataclass(frozen=True)
class Share:
    """``part`` of ``whole``, and their ratio (None when ``whole`` is 0)."""

    part: int
    whole: int

    @property
    def rate(self) -> float | None:
        return ratio(self.part, self.whole)


def success(attempts: Iterable[Attempt], *, scope: Scope, days: Container[date]) -> Share:
    """Booking success: of the attempts (``facts.Attempt``: one per channel, account,
    patient and local day with a hold or intent request) made on ``days`` that the scope
    admits, those that ended in a confirmed booking the scope admits."""
    admitted = [a for a in attempts if a.day in days and a.admitted(scope)]
    return Share(sum(1 for a in admitted if a.booked_in(scope) is not None), len(admitted))


def time_to_book(
    attempts: Iterable[Attempt], *, scope: Scope, days: Container[date]
) -> list[float]:
    """Seconds from an attempt's first request (its first hold or intent that day) to the
    confirmation of the first booking it ended in, for every booked attempt."""
    waits = []
    for a in attempts:
        booking = a.booked_in(scope) if a.day in days and a.admitted(scope) else None
        if booking is not None:
            waits.append((booking.booked_at - a.first_at).total_seconds())
    return waits


def active_days(activity: Iterable[Activity], *, scope: Scope) -> dict[int, list[date]]:
    """Each account's active days, in order: days with a request record of the account
    that the scope admits (for one hospital: a request naming its slot or booking)."""
    found: dict[int, set[date]] = defaultdict(set)
    for a in activity:
        if a.admitted(scope):
            found[a.account_id].add(a.day)
    return {account: sorted(days) for account, days in found.items()}


def daily_active(days_by_account: Mapping[int, Sequence[date]]) -> dict[date, int]:
    counts: dict[date, int] = defaultdict(int)
    for days in days_by_account.values():
        for day in days:
            counts[day] += 1
    return counts


def monthly_active(days_by_account: Mapping[int, Sequence[date]], *, last: date) -> int:
    """Accounts active on at least one of the ``MAU_DAYS`` days ending with ``last``."""
    window = Period.ending(last, days=MAU_DAYS)
    return sum(1 for days in days_by_account.values() if any(d in window for d in days))


def retention(
    days_by_account: Mapping[int, Sequence[date]],
    *,
    period: Period,
    horizon: int,
    last_complete: date,
) -> Share:
    """N-day retention. The cohort is every (account, day d) with the account active on d,
    d in the period, and d + N no later than ``last_complete`` (the last local day that
    has ended: a day whose follow-up is still running is left out, not counted as lost).
    A pair is retained when the account is active again on one of d + 1 … d + N."""
    cohort = retained = 0
    for days in days_by_account.values():
        for i, day in enumerate(days):
            if day not in period or day + horizon * DAY > last_complete:
                continue
            cohort += 1
            # ``days`` is sorted and distinct: the next active day, if any, is the next item.
            if i + 1 < len(days) and days[i + 1] <= day + horizon * DAY:
                retained += 1
    return Share(retained, cohort)


def booking_accounts(
    days_by_account: Mapping[int, Sequence[date]],
    bookings: Iterable[Booked],
    *,
    scope: Scope,
    period: Period,
) -> Share:
    """Of the accounts active in the period, those that confirmed at least one booking the
    scope admits in the period (by the local day of its confirmation)."""
    active = {a for a, days in days_by_account.items() if any(d in period for d in days)}
    booked = {b.account_id for b in bookings if b.booked_day in period and b.admitted(scope)}
    return Share(len(active & booked), len(active))


def no_shows(attendance: Iterable[Attendance], *, scope: Scope, days: Container[date]) -> Share:
    """No-show rate: of the bookings of sessions dated in ``days`` whose attendance is
    known (checked in or no-show), those marked no-show."""
    missed = attended = 0
    for a in attendance:
        if a.day in days and a.admitted(scope):
            missed += a.no_show
            attended += a.checked_in
    return Share(missed, missed + attended)


def blacklisted_share(bookings: Iterable[Booked], *, scope: Scope, days: Container[date]) -> Share:
    """Of the scarce slots taken on ``days`` (bookings confirmed then, on a session of a
    draw-mode department or one whose every slot is taken: ``risk/linking.py::is_scarce``),
    those taken by a blacklisted identity (:func:`ever_blacklisted`)."""
    taken = [b for b in bookings if b.scarce and b.booked_day in days and b.admitted(scope)]
    return Share(sum(1 for b in taken if b.blacklisted), len(taken))


@dataclass(frozen=True, kw_only=True)
class Figures:
    """The quality figures of one scope over one period."""

    success: Share
    time_to_book_median_s: float | None
    time_to_book_p90_s: float | None
    dau_mean: float
    dau_last_day: int
    mau: int
    dau_mau: float | None  # mean DAU of the MAU window ÷ MAU
    booking_accounts: Share
    retention_7d: Share
    retention_30d: Share
    bookings: int
    no_shows: Share
    blacklisted: Share


def figures(facts: Facts, *, period: Period, scope: Scope, last_complete: date) -> Figures:
    """Every figure of ``scope`` over ``period``. ``facts`` must hold the activity of the
    ``MAU_DAYS`` days ending with the period and of the 30 days after it, where they have
    passed."""
    days = frozenset(period.days)
    waits = time_to_book(facts.attempts, scope=scope, days=days)
    by_account = active_days(facts.activity, scope=scope)
    daily = daily_active(by_account)
    mau = monthly_active(by_account, last=period.last)
    mau_days = Period.ending(period.last, days=MAU_DAYS).days
    seven, thirty = (
        retention(by_account, period=period, horizon=n, last_complete=last_complete)
        for n in RETENTION_HORIZONS
    )
    return Figures(
        success=success(facts.attempts, scope=scope, days=days),
        time_to_book_median_s=percentile(waits, 50),
        time_to_book_p90_s=percentile(waits, 90),
        dau_mean=sum(daily.get(d, 0) for d in period.days) / period.length,
        dau_last_day=daily.get(period.last, 0),
        mau=mau,
        dau_mau=ratio(sum(daily.get(d, 0) for d in mau_days), MAU_DAYS * mau),
        booking_accounts=booking_accounts(by_account, facts.bookings, scope=scope, period=period),
        retention_7d=seven,
        retention_30d=thirty,
        bookings=sum(1 for b in facts.bookings if b.booked_day in days and b.admitted(scope)),
        no_shows=no_shows(facts.attendance, scope=scope, days=days),
        blacklisted=blacklisted_share(facts.bookings, scope=scope, days=days),
    )


@dataclass(frozen=True, kw_only=True)
class DayRow:
    """One day of the trend: the day's own figures (each as defined above, over one day)."""

    day: date
    success: Share
    dau: int
    bookings: int
    no_shows: Share
    blacklisted: Share


def trend(facts: Facts, *, period: Period, scope: Scope) -> list[DayRow]:
    """One row per day of the period, oldest first, days without data included."""
    attempts: dict[date, list[Attempt]] = defaultdict(list)
    for a in facts.attempts:
        attempts[a.day].append(a)
    booked: dict[date, list[Booked]] = defaultdict(list)
    for b in facts.bookings:
        booked[b.booked_day].append(b)
    attendance: dict[date, list[Attendance]] = defaultdict(list)
    for n in facts.attendance:
        attendance[n.day].append(n)
    daily = daily_active(active_days(facts.activity, scope=scope))
    rows = []
    for day in period.days:
        only = (day,)
        rows.append(
            DayRow(
                day=day,
                success=success(attempts[day], scope=scope, days=only),
                dau=daily.get(day, 0),
                bookings=sum(1 for b in booked[day] if b.admitted(scope)),
                no_shows=no_shows(attendance[day], scope=scope, days=only),
                blacklisted=blacklisted_share(booked[day], scope=scope, days=only),
            )
        )
    return rows
