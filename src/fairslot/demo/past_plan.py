"""What the demo's past two weeks held: the plan's shape, its numbers and its parts.
Drawn by ``demo/past_planner.py`` (the people and the days) and ``demo/past_nights.py``
(the releases), pure, from a seeded generator; ``demo/past.py`` replays it through the
channel and hospital APIs on a clock set to each moment.

The hospitals joined the platform ``PAST_DAYS`` days ago: their first push (00:00) carried
the sessions of seven days later, released at 00:30 like every day since. Households
joined over the fortnight (``demo/past_people.py``). Each day a few people book an
ordinary clinic in the daytime (browse, hold, pay) and later come, miss the visit or
cancel; on some nights people wait up for the 00:30 release of an expert clinic, or
register for a release draw. On **the big release** — yesterday's, unless that released
a Sunday, when expert clinics are closed — the first ophthalmology or stomatology draw is
oversubscribed, the smallest expert clinic of the day sells out within seconds (the last
two to try are refused) and the window books its reserved share for walk-ins; a minute
late, someone registers for the draw; that afternoon a man tries gynaecology; a grab
script's network polls the release until the rate limit refuses it. Five nights ago a
grab tool's device, on IT's blacklist then, tried to hold at release and was refused.

Nothing here may catch the eye of the daily batch: each household keeps to itself, a
person books at most three times and misses at most once, and waits up at most twice.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Final
from zoneinfo import ZoneInfo

from fairslot.demo import catalog
from fairslot.demo.past_people import Household
from fairslot.hospitals.kinds import DoctorTitle
from fairslot.schedules.formats import SessionSpec
from fairslot.schedules.release import reserved_numbers
from fairslot.schedules.states import Period

PAST_DAYS: Final = 14
DAYS_AHEAD: Final = 7  # the hospitals' release rule: a date opens seven days before
RELEASE: Final = time(0, 30)
ORDINARY_PER_DAY: Final = 3
EXTRA_ON_THE_LAST_DAYS: Final = (2, 1)  # yesterday and the day before were busier
SMALL_RELEASES: Final = 3  # other nights two people wait up for an expert clinic
EARLIER_DRAWS: Final = 2
LAPSED_HOLDS: Final = 4
CANCELLATIONS: Final = 6  # of daytime bookings, a few hours to a day after paying
NO_SHOWS: Final = 3
REFUSED_AT_THE_END: Final = 2  # the sold-out clinic's last two
OVERSUBSCRIBED_BY: Final = 2  # intents beyond the slots of the big night's first draw
MAX_OVERSUBSCRIBED: Final = 16  # a larger draw is left undersubscribed instead
OTHER_DRAW_INTENTS: Final = 3
RADAR_POLLS: Final = 45  # 30 a second for a second and a half
# The scalper books the example hospital's cardiology (``demo/scalpers.py``): the past
# leaves it alone, so what yesterday's batch finds about him is unchanged.
SCALPER_CLINIC: Final = ("PUH1", "CAR")
DRAW_HOSPITALS: Final = ("PUH1", "BJCH")
WINDOW_SHARE: Final = next(c.reserved_share for c in catalog.CHANNELS if c.code == "window")
WINDOW_DESK: Final = ("window-desk-3", "10.20.0.15")  # the registration window's terminal


class Kind(enum.StrEnum):
    BOOK = "book"  # browse, hold, pay in the daytime
    RELEASE = "release"  # refresh at the release and hold a slot of an expert clinic
    INTENT = "intent"  # register for a release draw (paid when drawn)
    LATE_INTENT = "late_intent"  # a minute after the draw: refused
    LAPSE = "lapse"  # hold and never pay: the hold lapses
    GRAB = "grab"  # a blacklisted grab tool holds at the release: refused


class After(enum.StrEnum):
    NOTHING = "nothing"  # the visit is still to come (or there was no booking)
    COME = "come"  # checked in at the hospital
    MISS = "miss"  # marked a no-show
    CANCEL = "cancel"  # cancelled some hours later


@dataclass(frozen=True)
class Clinic:
    """One session as the plan knows it (from the hospitals' weekly plans)."""

    hospital: str
    department: catalog.DemoDepartment
    doctor: catalog.PlannedDoctor
    spec: SessionSpec

    @property
    def open(self) -> int:
        """Slots on open sale: the window keeps its share."""
        return self.spec.capacity - len(reserved_numbers(self.spec.capacity, WINDOW_SHARE))


@dataclass(frozen=True)
class Journey:
    kind: Kind
    at: datetime  # when it starts (UTC)
    household: str
    person: str
    hospital: str
    department: str
    day: date  # the session date wanted
    doctor: str | None = None  # a planned clinic: its doctor's name and period; None: any
    period: Period | None = None
    title: DoctorTitle | None = None  # an intent for any doctor of this title
    after: After = After.NOTHING
    wait: timedelta = timedelta(0)  # from payment to the cancellation
    device: str | None = None  # another device than the household's (the grab tool)


@dataclass(frozen=True)
class Push:
    at: datetime
    hospital: str
    day: date


@dataclass(frozen=True)
class Radar:
    """A grab script polling availability from one network around a release."""

    at: datetime
    ip: str
    polls: int
    every: timedelta
    hospital: str
    department: str
    day: date


@dataclass(frozen=True)
class PastPlan:
    days: tuple[date, ...]
    big_release: date  # the night a draw was oversubscribed and a clinic sold out
    households: tuple[Household, ...]
    joins: tuple[tuple[datetime, str], ...]  # (when, household), in order
    journeys: tuple[Journey, ...]  # in order of their start
    pushes: tuple[Push, ...]
    releases: tuple[datetime, ...]  # each day's 00:30
    radar: Radar | None
    sold_out: Clinic | None
    draws: tuple[tuple[str, str, date], ...]  # (hospital, department, date) with intents
    # The big night's draw with more intents than slots: (hospital, department, slots).
    oversubscribed: tuple[str, str, int] | None
    sessions: Mapping[str, tuple[SessionSpec, ...]] = field(default_factory=dict)  # pushed


def local(day: date, at: time, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC)
