"""What the daily report's pictures show of a local day. Pure: no I/O.

* the release hour, minute by minute: channel requests (slot look-ups and booking
  actions), the refused ones, and bookings confirmed, from a little before the earliest
  release of the day to well after the last;
* the whole day, hour by hour, the same counts;
* refusals by reason (the stable error code each refused request was answered with);
* who took the day's scarce slots: identities nobody flagged, identities the daily batch
  flagged (on that day or later), identities put on the blacklist (at the time or later).

A slot is scarce by the batch's own reading (``risk/linking.py::is_scarce``). Identities
are compared as blacklist entries and alerts store them (``blacklist/keys.py``): the
patient, the patient's and the account's phones, the account, the device, the payment
account. Networks are left out: a hospital's Wi-Fi or a family's home network is shared
by strangers, and would paint every genuine patient on it.
"""

from __future__ import annotations

import enum
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Final
from zoneinfo import ZoneInfo

from fairslot.risk.alerts import SCOPE_OF

BEFORE_RELEASE: Final = timedelta(minutes=10)
AFTER_RELEASE: Final = timedelta(minutes=50)
# Releases spread over the day (hospitals with other release times) would make a
# per-minute picture unreadable: past this span the window stops.
MAX_RELEASE_SPAN: Final = timedelta(hours=3)
MINUTE: Final = timedelta(minutes=1)
HOUR: Final = timedelta(hours=1)
# The identity scopes a taker is recognised by (networks left out, see above).
TAKER_SCOPES: Final = frozenset({"patient", "phone", "account", "device", "payment"})
TOP_REASONS: Final = 10
TOP_DEPARTMENTS: Final = 10
OTHER: Final = "other"

Identity = tuple[str, str]
"""``(scope, stored key)`` as a blacklist entry stores it."""


# --- time buckets ------------------------------------------------------------------------


@dataclass(frozen=True)
class Buckets:
    """Consecutive buckets of one length, ``[start + i * step, start + (i + 1) * step)``."""

    start: datetime
    step: timedelta
    count: int

    def __post_init__(self) -> None:
        if self.start.tzinfo is None:
            raise ValueError("Buckets.start must be UTC-aware")
        if self.count < 1 or self.step <= timedelta(0):
            raise ValueError("Buckets need a positive step and at least one bucket")

    @property
    def end(self) -> datetime:
        return self.start + self.count * self.step

    def bounds(self) -> list[datetime]:
        """The ``count + 1`` boundaries, first to last."""
        return [self.start + i * self.step for i in range(self.count + 1)]


def day_hours(day: date, zone: str) -> Buckets:
    """Local day ``day`` hour by hour (23 or 25 hours on a day the clocks change)."""
    tz = ZoneInfo(zone)
    start = datetime.combine(day, time(), tzinfo=tz).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(), tzinfo=tz).astimezone(UTC)
    return Buckets(start, HOUR, int((end - start) / HOUR))


def release_instants(day: date, releases: Iterable[tuple[time, str]]) -> list[datetime]:
    """The distinct moments (UTC) the hospitals released on local ``day``: each
    ``(release_time, zone)`` of a hospital, on that date in its zone."""
    found = {
        datetime.combine(day, at, tzinfo=ZoneInfo(zone)).astimezone(UTC) for at, zone in releases
    }
    return sorted(found)


def release_window(day: date, zone: str, instants: Sequence[datetime]) -> Buckets:
    """Minute buckets from ``BEFORE_RELEASE`` before the first release to
    ``AFTER_RELEASE`` after the last (at most ``MAX_RELEASE_SPAN``); without any release
    (no hospital yet), the hour after the platform's default 00:30."""
    if not instants:
        instants = release_instants(day, [(time(0, 30), zone)])
    start = instants[0] - BEFORE_RELEASE
    end = min(instants[-1] + AFTER_RELEASE, start + MAX_RELEASE_SPAN)
    return Buckets(start, MINUTE, int((end - start) / MINUTE))


# --- counts ------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Activity:
    """Counts per bucket: slot look-ups, booking actions (holds, intents, confirmations,
    cancellations, waitlist), the refused ones of both, bookings confirmed."""

    buckets: Buckets
    lookups: tuple[int, ...]
    actions: tuple[int, ...]
    refused: tuple[int, ...]
    booked: tuple[int, ...]
    marks: tuple[datetime, ...] = ()  # the release moments inside the buckets

    @property
    def requests(self) -> int:
        return sum(self.lookups) + sum(self.actions)

    @property
    def empty(self) -> bool:
        return self.requests == 0 and sum(self.booked) == 0


@dataclass(frozen=True, kw_only=True)
class RequestBucket:
    """A repository row: requests of one bucket, one kind (look-up or action), refused
    or not."""

    bucket: int
    lookup: bool
    refused: bool
    count: int


def activity(
    buckets: Buckets,
    *,
    requests: Iterable[RequestBucket],
    booked: Iterable[tuple[int, int]],
    marks: Iterable[datetime] = (),
) -> Activity:
    """Spread the repository's grouped counts over every bucket (zeros included)."""
    lookups, actions, refused, confirmed = ([0] * buckets.count for _ in range(4))
    for row in requests:
        if not 0 <= row.bucket < buckets.count:
            continue
        (lookups if row.lookup else actions)[row.bucket] += row.count
        if row.refused:
            refused[row.bucket] += row.count
    for bucket, count in booked:
        if 0 <= bucket < buckets.count:
            confirmed[bucket] += count
    return Activity(
        buckets=buckets,
        lookups=tuple(lookups),
        actions=tuple(actions),
        refused=tuple(refused),
        booked=tuple(confirmed),
        marks=tuple(m for m in marks if buckets.start <= m < buckets.end),
    )


@dataclass(frozen=True, kw_only=True)
class Refusals:
    """Refused requests by reason, most frequent first; past ``TOP_REASONS`` the rest is
    one ``other`` line."""

    reasons: tuple[tuple[str, int], ...]

    @property
    def total(self) -> int:
        return sum(n for _, n in self.reasons)


def refusals(counts: Iterable[tuple[str, int]], *, top: int = TOP_REASONS) -> Refusals:
    merged: Counter[str] = Counter()
    for code, n in counts:
        merged[code] += n
    ranked = sorted(merged.items(), key=lambda item: (-item[1], item[0]))
    if len(ranked) > top:
        ranked = [*ranked[: top - 1], (OTHER, sum(n for _, n in ranked[top - 1 :]))]
    return Refusals(reasons=tuple(ranked))


# --- who took the scarce slots -----------------------------------------------------------


class Taker(enum.StrEnum):
    GENUINE = "genuine"  # nobody flagged or blocked this identity
    FLAGGED = "flagged"  # the daily batch flagged it, that day or later
    BLACKLISTED = "blacklisted"  # on the blacklist at the booking or later


@dataclass(frozen=True, kw_only=True)
class Ban:
    """A blacklist entry of a taker scope: in force from its creation until ``ends_at``
    (lifted or expired; None while it stands)."""

    scope: str
    key: str
    ends_at: datetime | None


@dataclass(frozen=True, kw_only=True)
class ScarceBooking:
    """A booking confirmed on the day on a scarce slot, with its identities."""

    booking_id: str
    booked_at: datetime
    place: str  # the hospital and department, as people read them
    identities: tuple[Identity, ...]


def ban_index(bans: Iterable[Ban]) -> dict[Identity, list[Ban]]:
    index: dict[Identity, list[Ban]] = defaultdict(list)
    for ban in bans:
        index[(ban.scope, ban.key)].append(ban)
    return dict(index)


def alert_identity(entity_kind: str, entity_key: str) -> Identity | None:
    """An alert's entity as a taker identity; None for a network (or an unknown kind)."""
    scope = SCOPE_OF.get(entity_kind)
    return (scope, entity_key) if scope in TAKER_SCOPES else None


def taker_of(
    booking: ScarceBooking,
    *,
    bans: Mapping[Identity, Sequence[Ban]],
    flagged: Collection[Identity],
) -> Taker:
    """Blacklisted when one of the booking's identities has an entry in force at some
    moment at or after the confirmation (added later, or earlier and not yet lifted or
    expired by then — the same reading as the quality metrics); else flagged when an
    alert names one of them; else genuine."""
    if any(
        ban.ends_at is None or ban.ends_at > booking.booked_at
        for identity in booking.identities
        for ban in bans.get(identity, ())
    ):
        return Taker.BLACKLISTED
    if any(identity in flagged for identity in booking.identities):
        return Taker.FLAGGED
    return Taker.GENUINE


@dataclass(frozen=True, kw_only=True)
class PlaceTakers:
    place: str  # "other" for the departments past the top ones
    genuine: int
    flagged: int
    blacklisted: int

    @property
    def total(self) -> int:
        return self.genuine + self.flagged + self.blacklisted


@dataclass(frozen=True, kw_only=True)
class ScarceTakers:
    """Per department (most scarce slots first; past ``TOP_DEPARTMENTS``, one ``other``
    line) and overall."""

    places: tuple[PlaceTakers, ...]

    def count(self, taker: Taker) -> int:
        return sum(getattr(p, taker.value) for p in self.places)

    @property
    def total(self) -> int:
        return sum(p.total for p in self.places)


def scarce_takers(
    bookings: Iterable[ScarceBooking],
    *,
    bans: Mapping[Identity, Sequence[Ban]],
    flagged: Collection[Identity],
    top: int = TOP_DEPARTMENTS,
) -> ScarceTakers:
    counts: dict[str, Counter[Taker]] = defaultdict(Counter)
    for booking in bookings:
        counts[booking.place][taker_of(booking, bans=bans, flagged=flagged)] += 1
    ranked = sorted(counts.items(), key=lambda item: (-item[1].total(), item[0]))
    if len(ranked) > top:
        rest: Counter[Taker] = Counter()
        for _, c in ranked[top - 1 :]:
            rest.update(c)
        ranked = [*ranked[: top - 1], (OTHER, rest)]
    return ScarceTakers(
        places=tuple(
            PlaceTakers(
                place=place,
                genuine=c[Taker.GENUINE],
                flagged=c[Taker.FLAGGED],
                blacklisted=c[Taker.BLACKLISTED],
            )
            for place, c in ranked
        )
    )
