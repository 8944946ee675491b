"""The plan of the demo's past (``demo/past_planner.py``, ``demo/past_nights.py``): the
same for the same seed, a big release night whatever the weekday, and nothing in it that
the daily batch could take for a scalper."""

from __future__ import annotations

import random
from collections import Counter
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest

from fairslot.demo import catalog
from fairslot.demo.desk import GRAB_DEVICE, GRAB_NETWORK, MISTAKEN_PHONE
from fairslot.demo.past_plan import (
    CANCELLATIONS,
    NO_SHOWS,
    OVERSUBSCRIBED_BY,
    PAST_DAYS,
    REFUSED_AT_THE_END,
    SCALPER_CLINIC,
    After,
    Kind,
    PastPlan,
)
from fairslot.demo.past_planner import plan_past

ZONE = ZoneInfo("Asia/Shanghai")
MONDAY = date(2026, 11, 23)


def _plan(today: date, *, seed: int = 2026) -> PastPlan:
    rng = random.Random(seed)
    clinics = {
        h.code: tuple(
            doctor
            for department in catalog.departments_of(h)
            for doctor in catalog.plan_doctors(h, department=department, rng=rng)
        )
        for h in catalog.HOSPITALS
    }
    return plan_past(
        today=today,
        clinics=clinics,
        zone=ZONE,
        rng=random.Random(f"past:{seed}"),
        grab_device=GRAB_DEVICE,
        grab_network=GRAB_NETWORK,
    )


WEEK = [MONDAY + timedelta(days=n) for n in range(7)]


def test_the_same_seed_gives_the_same_past() -> None:
    assert _plan(WEEK[2]) == _plan(WEEK[2])
    assert _plan(WEEK[2]).journeys != _plan(WEEK[2], seed=7).journeys


@pytest.mark.parametrize("today", WEEK, ids=lambda d: d.strftime("%a"))
def test_the_big_release_is_yesterdays_unless_it_released_a_sunday(today: date) -> None:
    plan = _plan(today)
    yesterday = today - timedelta(days=1)
    released = yesterday + timedelta(days=7)

    assert plan.days == tuple(today - timedelta(days=PAST_DAYS - n) for n in range(PAST_DAYS))
    expected = yesterday if released.weekday() != 6 else yesterday - timedelta(days=1)
    assert plan.big_release == expected


@pytest.mark.parametrize("today", WEEK, ids=lambda d: d.strftime("%a"))
def test_on_the_big_night_the_draws_fill_and_an_expert_clinic_sells_out(today: date) -> None:
    plan = _plan(today)
    night = plan.big_release
    day = night + timedelta(days=7)
    intents = Counter(
        (j.hospital, j.department)
        for j in plan.journeys
        if j.kind is Kind.INTENT and j.at.astimezone(ZONE).date() == night
    )
    assert {h for h, _ in intents} == {"PUH1", "BJCH"}
    assert {d for _, d in intents} == {"OPH", "STO"}
    assert plan.oversubscribed is not None
    hospital, department, slots = plan.oversubscribed
    assert intents[(hospital, department)] == slots + OVERSUBSCRIBED_BY

    clinic = plan.sold_out
    assert clinic is not None and clinic.spec.session_date == day
    assert (clinic.hospital, clinic.department.code) != SCALPER_CLINIC
    assert not clinic.department.drawn and clinic.department.scarce
    at_release = [
        j for j in plan.journeys if j.kind is Kind.RELEASE and j.doctor == clinic.doctor.name
    ]
    assert len(at_release) == clinic.open + REFUSED_AT_THE_END
    walk_ins = [j for j in plan.journeys if j.household.startswith("w")]
    assert len(walk_ins) == clinic.spec.capacity - clinic.open  # the window's share
    assert plan.radar is not None and plan.radar.ip == GRAB_NETWORK
    assert [j.kind for j in plan.journeys if j.kind is Kind.LATE_INTENT] == [Kind.LATE_INTENT]


def test_a_fixed_number_cancel_and_miss_and_the_missed_book_nothing_but_one_refused_try() -> None:
    plan = _plan(WEEK[3])
    outcomes = Counter(j.after for j in plan.journeys)
    assert outcomes[After.CANCEL] == CANCELLATIONS
    assert outcomes[After.MISS] == NO_SHOWS
    # One each per household at most: the batch counts them per account too.
    ended = [j.household for j in plan.journeys if j.after in (After.CANCEL, After.MISS)]
    assert len(set(ended)) == len(ended)
    assert outcomes[After.COME] >= 25

    tries = 0
    for missed in (j for j in plan.journeys if j.after is After.MISS):
        later = [
            j
            for j in plan.journeys
            if j.person == missed.person and j.at.astimezone(ZONE).date() > missed.day
        ]
        assert all(j.kind is Kind.BOOK and j.after is After.NOTHING for j in later)
        tries += len(later)
    assert tries == 1  # one of them tries again while the ban stands
    assert sum(1 for j in plan.journeys if j.kind is Kind.GRAB and j.device == GRAB_DEVICE) == 1


def test_households_share_nothing_with_each_other_or_the_other_demo_people() -> None:
    plan = _plan(WEEK[4])
    own = [h for h in plan.households if h.channel != "window"]
    for attribute in ("phone", "device", "ip", "payment"):
        values = [getattr(h, attribute) for h in own]
        assert len(set(values)) == len(values), attribute
    for household in plan.households:
        assert household.phone != MISTAKEN_PHONE
        assert household.phone[:3] not in {"135", "136", "137", "138", "139", "158", "159"}
    assert 30 <= len(plan.households) <= 40
    assert sum(len(h.people) for h in plan.households) >= 50


def test_nobody_books_often_or_waits_up_for_more_than_two_releases() -> None:
    # The batch's rules: per person at most three bookings, and accounts acting side by
    # side on three sessions look like a team (the synchrony rule).
    plan = _plan(WEEK[0])
    per_person = Counter(j.person for j in plan.journeys)
    assert max(per_person.values()) <= 3
    midnights = Counter(j.household for j in plan.journeys if j.at.astimezone(ZONE).hour == 0)
    assert max(midnights.values()) <= 2
    departments = {d.code: d for d in catalog.DEPARTMENTS}
    people = {p.key: p for h in plan.households for p in h.people}
    mistakes = [
        j
        for j in plan.journeys
        if j.kind is Kind.BOOK and not people[j.person].may_see(departments[j.department], j.day)
    ]
    assert [(j.department, people[j.person].sex.value) for j in mistakes] == [("GYN", "male")]
