"""What the quality figures are computed from: local days, scopes and the facts read from
bookings and request records. Pure: no I/O.

Every fact already carries its local day(s) in the report's zone (the service converts
the stored UTC instants once), so the figures in :mod:`fairslot.metrics.rules` never deal
with time zones.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

DAY = timedelta(days=1)
# The longest period a report or a trend may cover (a year, a leap day included).
MAX_DAYS = 366


@dataclass(frozen=True)
class Period:
    """Local dates ``first`` to ``last``, both included."""

    first: date
    last: date

    def __post_init__(self) -> None:
        if self.last < self.first:
            raise ValueError("a period ends on or after the day it starts")

    @classmethod
    def ending(cls, last: date, *, days: int) -> Period:
        return cls(last - (days - 1) * DAY, last)

    @property
    def days(self) -> tuple[date, ...]:
        return tuple(self.first + i * DAY for i in range(self.length))

    @property
    def length(self) -> int:
        return (self.last - self.first).days + 1

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.first <= day <= self.last

    def widened(self, *, before: int = 0, after: int = 0) -> Period:
        return Period(self.first - before * DAY, self.last + after * DAY)

    def starts(self, tz: str) -> list[datetime]:
        """The UTC instant each local day starts, then the end of the last day: ``length +
        1`` bounds; a day is [bound i, bound i + 1). Exact across daylight-saving shifts."""
        zone = ZoneInfo(tz)
        return [
            datetime.combine(self.first + i * DAY, time(0), tzinfo=zone).astimezone(UTC)
            for i in range(self.length + 1)
        ]


def local_day(at: datetime, zone: ZoneInfo) -> date:
    return at.astimezone(zone).date()


@dataclass(frozen=True)
class Scope:
    """Which facts a figure reads: one hospital's, one channel's, both, or (None) all."""

    hospital_id: int | None = None
    channel_id: int | None = None

    def admits(self, *, hospital_id: int | None, channel_id: int | None) -> bool:
        return (self.hospital_id is None or hospital_id == self.hospital_id) and (
            self.channel_id is None or channel_id == self.channel_id
        )


@dataclass(frozen=True, kw_only=True)
class Activity:
    """An account made at least one request on ``day`` through ``channel_id``, naming a slot
    or booking of ``hospital_id`` (None: its requests named no hospital, e.g. a list of its
    bookings or an intent)."""

    account_id: int
    day: date
    channel_id: int | None
    hospital_id: int | None

    def admitted(self, scope: Scope) -> bool:
        return scope.admits(hospital_id=self.hospital_id, channel_id=self.channel_id)


@dataclass(frozen=True, kw_only=True)
class AttemptRecord:
    """The first request (a hold, or an intent for a release draw) an account made for a
    patient on ``day`` through ``channel_id``, among those naming ``hospital_id`` (None:
    naming no slot, e.g. a hold by session refused before a slot was chosen)."""

    channel_id: int | None
    account_id: int
    patient_key: str
    day: date
    first_at: datetime
    hospital_id: int | None


@dataclass(frozen=True, kw_only=True)
class Booked:
    """A booking that reached ``booked`` (it was paid), whatever became of it since."""

    booking_id: str
    channel_id: int
    account_id: int
    patient_key: str
    hospital_id: int
    held_at: datetime
    held_day: date
    booked_at: datetime
    booked_day: date
    scarce: bool = False
    # Taken by an identity blacklisted at or after the confirmation (rules.ever_blacklisted).
    blacklisted: bool = False

    def admitted(self, scope: Scope) -> bool:
        return scope.admits(hospital_id=self.hospital_id, channel_id=self.channel_id)


@dataclass(frozen=True, kw_only=True)
class Attendance:
    """How many bookings of sessions on ``day`` were checked in and missed."""

    hospital_id: int
    channel_id: int
    day: date
    checked_in: int
    no_show: int

    def admitted(self, scope: Scope) -> bool:
        return scope.admits(hospital_id=self.hospital_id, channel_id=self.channel_id)


@dataclass(frozen=True, kw_only=True)
class Ban:
    """A blacklist entry as the figures need it: the stored key and when it was in force
    (``ends_at``: lifted or expired; None while it still blocks)."""

    scope: str
    key: str
    created_at: datetime
    ends_at: datetime | None


@dataclass(frozen=True, kw_only=True)
class Attempt:
    """A patient's booking attempt: an account's hold or intent requests for one patient on
    one local day through one channel, and the confirmed bookings they ended in."""

    channel_id: int | None
    account_id: int
    patient_key: str
    day: date
    first_at: datetime
    hospitals: frozenset[int]  # named by its requests
    bookings: tuple[Booked, ...] = ()  # first confirmed first

    def admitted(self, scope: Scope) -> bool:
        if scope.channel_id is not None and self.channel_id != scope.channel_id:
            return False
        return (
            scope.hospital_id is None
            or scope.hospital_id in self.hospitals
            or any(b.hospital_id == scope.hospital_id for b in self.bookings)
        )

    def booked_in(self, scope: Scope) -> Booked | None:
        return next((b for b in self.bookings if b.admitted(scope)), None)


@dataclass(frozen=True, kw_only=True)
class Facts:
    """Everything a report reads, for its period (activity also around it)."""

    activity: tuple[Activity, ...] = ()
    attempts: tuple[Attempt, ...] = ()
    bookings: tuple[Booked, ...] = ()
    attendance: tuple[Attendance, ...] = ()

    def hospitals(self, within: Scope) -> list[int]:
        """The hospitals some fact within ``within`` is about."""
        found: set[int | None] = {b.hospital_id for b in self.bookings if b.admitted(within)}
        found |= {a.hospital_id for a in self.attendance if a.admitted(within)}
        found |= {a.hospital_id for a in self.activity if a.admitted(within)}
        found |= {h for a in self.attempts if a.admitted(within) for h in a.hospitals}
        return sorted(h for h in found if h is not None and within.hospital_id in (None, h))

    def channels(self, within: Scope) -> list[int]:
        """The channels some fact within ``within`` is about."""
        found: set[int | None] = {b.channel_id for b in self.bookings if b.admitted(within)}
        found |= {a.channel_id for a in self.attendance if a.admitted(within)}
        found |= {a.channel_id for a in self.activity if a.admitted(within)}
        found |= {a.channel_id for a in self.attempts if a.admitted(within)}
        return sorted(c for c in found if c is not None)


def assemble_attempts(
    records: Iterable[AttemptRecord], bookings: Iterable[Booked]
) -> list[Attempt]:
    """One attempt per (channel, account, patient, local day) with a hold or intent request.

    It ended in the confirmed bookings of that account, patient and channel *held* that
    day, no earlier than its first request: a hold placed at 23:58 and paid after midnight
    counts for the day it was placed, and a draw's booking (held by the draw itself, with no
    request of its own) counts for its intent when the draw ran the same day.
    """
    first: dict[tuple[int | None, int, str, date], datetime] = {}
    named: dict[tuple[int | None, int, str, date], set[int]] = {}
    for r in records:
        key = (r.channel_id, r.account_id, r.patient_key, r.day)
        if key not in first or r.first_at < first[key]:
            first[key] = r.first_at
        hospitals = named.setdefault(key, set())
        if r.hospital_id is not None:
            hospitals.add(r.hospital_id)
    ended: dict[tuple[int | None, int, str, date], list[Booked]] = {}
    for b in bookings:
        ended.setdefault((b.channel_id, b.account_id, b.patient_key, b.held_day), []).append(b)
    return [
        Attempt(
            channel_id=key[0],
            account_id=key[1],
            patient_key=key[2],
            day=key[3],
            first_at=at,
            hospitals=frozenset(named[key]),
            bookings=tuple(
                sorted(
                    (b for b in ended.get(key, ()) if b.held_at >= at),
                    key=lambda b: (b.booked_at, b.booking_id),
                )
            ),
        )
        for key, at in first.items()
    ]
