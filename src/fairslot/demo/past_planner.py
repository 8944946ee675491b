"""Drawing the demo's past (``demo/past_plan.py`` says what it holds): the households, the
daytime bookings, which are cancelled or missed; the nights are ``demo/past_nights.py``.
Pure: no I/O, every choice from the seeded generator, in a fixed order.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from typing import Final
from zoneinfo import ZoneInfo

from fairslot.demo import catalog, past_nights
from fairslot.demo.past_people import Household, Person, households
from fairslot.demo.past_plan import (
    CANCELLATIONS,
    DAYS_AHEAD,
    EXTRA_ON_THE_LAST_DAYS,
    LAPSED_HOLDS,
    NO_SHOWS,
    ORDINARY_PER_DAY,
    PAST_DAYS,
    RELEASE,
    SCALPER_CLINIC,
    After,
    Clinic,
    Journey,
    Kind,
    PastPlan,
    Push,
    Radar,
    local,
)
from fairslot.hospitals.kinds import DoctorTitle
from fairslot.schedules.formats import SessionSpec
from fairslot.schedules.states import Period

_DEPARTMENTS: Final = {d.code: d for d in catalog.DEPARTMENTS}


def plan_past(
    *,
    today: date,
    clinics: Mapping[str, Sequence[catalog.PlannedDoctor]],
    zone: ZoneInfo,
    rng: random.Random,
    grab_device: str,
    grab_network: str,
) -> PastPlan:
    planner = Planner(today=today, clinics=clinics, zone=zone, rng=rng)
    past_nights.big_night(planner, grab_network=grab_network)
    past_nights.earlier_draws(planner)
    past_nights.small_releases(planner)
    past_nights.grab(planner, device=grab_device)
    planner.lapses()
    planner.ordinary_days()
    planner.outcomes()
    planner.banned_after_a_miss()
    return planner.plan()


class Planner:
    """The past being drawn: the supply it can book, the people, the journeys so far, and
    what constrains the next choice (at most three bookings per person, two nights up per
    household, nothing after a missed visit)."""

    def __init__(
        self,
        *,
        today: date,
        clinics: Mapping[str, Sequence[catalog.PlannedDoctor]],
        zone: ZoneInfo,
        rng: random.Random,
    ) -> None:
        self.today, self.zone, self.rng = today, zone, rng
        self.days = tuple(today - timedelta(days=PAST_DAYS - n) for n in range(PAST_DAYS))
        # The week before today (pushed during the replay) and six days on (pushed by
        # the seed): every date bookable on some day of the fortnight.
        first = today - timedelta(days=DAYS_AHEAD)
        dates = [first + timedelta(days=n) for n in range(2 * DAYS_AHEAD)]
        self.supply: dict[date, list[Clinic]] = {day: [] for day in dates}
        self.sessions: dict[str, tuple[SessionSpec, ...]] = {}
        for code, staff in sorted(clinics.items()):
            doctors = {d.code: d for d in staff}
            specs = catalog.plan_sessions(staff, days=dates)
            self.sessions[code] = tuple(s for s in specs if s.session_date < today)
            for spec in specs:
                doctor = doctors[spec.doctor]
                self.supply[spec.session_date].append(Clinic(code, doctor.department, doctor, spec))
        self.households = list(households(rng, today=today))
        self.people = {p.key: (h, p) for h in self.households for p in h.people}
        self.journeys: list[Journey] = []
        self.booked: dict[str, list[tuple[str, date]]] = {key: [] for key in self.people}
        self.midnights: Counter[str] = Counter()  # releases and draws a household waited for
        self.missed: dict[str, date] = {}
        self.ordinary: set[int] = set()  # daytime bookings (indexes into journeys)
        self.big = self._big_release_day()
        self.radar: Radar | None = None
        self.sold_out: Clinic | None = None
        self.draws: list[tuple[str, str, date]] = []
        self.oversubscribed: tuple[str, str, int] | None = None

    def lapses(self) -> None:
        for day in [*sorted(self.rng.sample(self.days[:-1], LAPSED_HOLDS - 1)), self.days[-1]]:
            self.book_ordinary(day, kind=Kind.LAPSE)

    def ordinary_days(self) -> None:
        extra = dict(zip(reversed(self.days), EXTRA_ON_THE_LAST_DAYS, strict=False))
        for day in self.days:
            for _ in range(ORDINARY_PER_DAY + extra.get(day, 0)):
                self.book_ordinary(day)

    def outcomes(self) -> None:
        """Of the daytime bookings, ``CANCELLATIONS`` are cancelled (made at least two
        days ahead, and not on the last day, so the cancellation falls within the
        fortnight and before the cut-off); of the visits, ``NO_SHOWS`` are missed, by
        people who book nothing afterwards (the ban would refuse them; one of them tries,
        ``banned_after_a_miss``). Each household cancels or misses at most once: the
        batch counts cancellations and no-shows per account too."""
        journeys = self.journeys
        households: set[str] = set()
        cancellable = [
            n
            for n in sorted(self.ordinary)
            if journeys[n].day >= self._on(journeys[n]) + timedelta(days=2)
            and self._on(journeys[n]) < self.days[-1]
        ]
        for n in self._spread(cancellable, CANCELLATIONS, households):
            journeys[n] = replace(journeys[n], after=After.CANCEL)
        missable = [
            n
            for n, journey in enumerate(journeys)
            if journey.after is After.COME
            and journey.kind in (Kind.BOOK, Kind.RELEASE)
            and not any(
                other.person == journey.person
                and other.at > local(journey.day, time(18, 30), self.zone)
                for other in journeys
            )
        ]
        # One of them early enough for the person to try again while banned.
        early = [n for n in missable if journeys[n].day <= self.days[-3]]
        chosen = self._spread(early, 1, households)
        chosen += self._spread(missable, NO_SHOWS - len(chosen), households)
        for n in sorted(chosen):
            journeys[n] = replace(journeys[n], after=After.MISS)
            self.missed[journeys[n].person] = journeys[n].day

    def _spread(self, candidates: list[int], count: int, households: set[str]) -> list[int]:
        """Up to ``count`` of the journeys, drawn at random, each of another household
        (recorded in ``households``)."""
        chosen: list[int] = []
        for n in self.rng.sample(candidates, len(candidates)):
            if len(chosen) == count:
                break
            if self.journeys[n].household not in households:
                households.add(self.journeys[n].household)
                chosen.append(n)
        return chosen

    def _on(self, journey: Journey) -> date:
        return journey.at.astimezone(self.zone).date()

    def banned_after_a_miss(self) -> None:
        """Someone who missed a visit tries to book again: the no-show ban refuses them."""
        for key, missed in sorted(self.missed.items(), key=lambda item: (item[1], item[0])):
            if missed + timedelta(days=1) < self.days[-1]:
                self.book_ordinary(missed + timedelta(days=1), person=key)
                return

    def _big_release_day(self) -> date:
        """Yesterday, unless its release was a Sunday's (no expert clinic): the day before."""
        yesterday = self.days[-1]
        released = yesterday + timedelta(days=DAYS_AHEAD)
        return yesterday if released.weekday() != 6 else yesterday - timedelta(days=1)

    # --- building blocks ----------------------------------------------------------------

    def clinics_on(
        self, day: date, department: str | None = None, hospital: str | None = None
    ) -> list[Clinic]:
        return [
            c
            for c in self.supply.get(day, [])
            if (department is None or c.department.code == department)
            and (hospital is None or c.hospital == hospital)
        ]

    def book_ordinary(
        self,
        on: date,
        hospital: str | None = None,
        department: str | None = None,
        day: date | None = None,
        *,
        kind: Kind = Kind.BOOK,
        person: str | None = None,
    ) -> None:
        """A daytime booking made on ``on`` for a clinic one to seven days later; draw
        departments only when asked for (their leftovers)."""
        rng = self.rng
        if day is None:
            later = [on + timedelta(days=n) for n in range(1, DAYS_AHEAD + 1)]
            day = rng.choice([d for d in later if d in self.supply])
        options = [
            c
            for c in self.clinics_on(day, department, hospital)
            if (department is not None or not c.department.drawn)
            and (c.hospital, c.department.code) != SCALPER_CLINIC
            and (person is None or self.people[person][1].may_see(c.department, day))
        ]
        if not options:
            return
        clinic = rng.choice(options)
        code = clinic.department.code
        banned = person is not None  # booking again after a no-show: refused
        who = person or self.someone(day=day, department=code)
        if who is None:
            return
        after = After.COME if day < self.today and kind is Kind.BOOK else After.NOTHING
        if kind is Kind.BOOK and not banned:
            self.ordinary.add(len(self.journeys))
        at = time(rng.randint(7, 21), rng.randrange(60), rng.randrange(60))
        self.add(
            kind,
            local(on, at, self.zone),
            who,
            clinic.hospital,
            code,
            day,
            after=after,
            wait=timedelta(hours=rng.uniform(2, 20)),
        )

    def someone(
        self,
        *,
        day: date | None = None,
        department: str | None = None,
        midnight: bool = False,
        fits: Callable[[Person], bool] | None = None,
    ) -> str | None:
        """Someone free to book, among those who did least so far (so most come back)."""
        found = [
            key
            for key, (household, person) in sorted(self.people.items())
            if household.key.startswith("h")  # not a walk-in, not the grab tool's owner
            and (fits is None or fits(person))
            and (
                day is None
                or department is None
                or self.free(person, household, department, day, midnight=midnight)
            )
        ]
        if not found:
            return None
        load = Counter(j.person for j in self.journeys)
        least = min(load[key] for key in found)
        return self.rng.choice([key for key in found if load[key] <= least])

    def free(
        self, person: Person, household: Household, department: str, day: date, *, midnight: bool
    ) -> bool:
        mine = self.booked[person.key]
        return (
            person.may_see(_DEPARTMENTS[department], day)
            and (department, day) not in mine
            and sum(1 for _, when in mine if when == day) < 2
            and len(mine) < 3
            and person.key not in self.missed
            and (not midnight or self.midnights[household.key] < 2)
        )

    def join(self, household: Household) -> None:
        self.households.append(household)
        for person in household.people:
            self.people[person.key] = (household, person)
            self.booked[person.key] = []

    def add(
        self,
        kind: Kind,
        at: datetime,
        person: str | None,
        hospital: str,
        department: str,
        day: date,
        *,
        doctor: str | None = None,
        period: Period | None = None,
        title: DoctorTitle | None = None,
        after: After = After.NOTHING,
        wait: timedelta = timedelta(0),
        device: str | None = None,
    ) -> None:
        if person is None:
            return
        household, _ = self.people[person]
        self.booked[person].append((department, day))
        if at.astimezone(self.zone).time() < time(1, 0):
            self.midnights[household.key] += 1
        self.journeys.append(
            Journey(
                kind,
                at,
                household.key,
                person,
                hospital,
                department,
                day,
                doctor=doctor,
                period=period,
                title=title,
                after=after,
                wait=wait,
                device=device,
            )
        )

    def plan(self) -> PastPlan:
        journeys = sorted(self.journeys, key=lambda j: (j.at, j.person))
        first: dict[str, datetime] = {}
        for journey in journeys:
            first.setdefault(journey.household, journey.at)
        joins = sorted(
            (at - timedelta(minutes=self.rng.randint(25, 180)), key) for key, at in first.items()
        )
        pushed = sorted({s.session_date for specs in self.sessions.values() for s in specs})
        return PastPlan(
            days=self.days,
            big_release=self.big,
            households=tuple(h for h in self.households if h.key in first),
            joins=tuple(joins),
            journeys=tuple(journeys),
            pushes=tuple(
                Push(local(day - timedelta(days=DAYS_AHEAD), time(0, 0), self.zone), code, day)
                for day in pushed
                for code in sorted(self.sessions)
            ),
            releases=tuple(local(day, RELEASE, self.zone) for day in self.days),
            radar=self.radar,
            sold_out=self.sold_out,
            draws=tuple(self.draws),
            oversubscribed=self.oversubscribed,
            sessions=dict(self.sessions),
        )
