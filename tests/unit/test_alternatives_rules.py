"""Ranking alternatives, without a database."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

from fairslot.alternatives.rules import Booker, Candidate, Tier, Wanted, rank, tier_of
from fairslot.bookings.rules import DepartmentFacts, Limits, PatientFacts
from fairslot.hospitals.kinds import DoctorTitle, SexRestriction
from fairslot.patients.identity import Sex

DAY = dt.date(2026, 11, 25)
T0 = dt.datetime(2026, 11, 25, 0, 0, tzinfo=dt.UTC)

WANTED = Wanted(
    session_id=1,
    hospital_id=10,
    grade="三级甲等",
    city="福州",
    specialty="internal",
    doctor_id=100,
    title=DoctorTitle.CHIEF,
    session_date=DAY,
)

WOMAN = PatientFacts(sex=Sex.FEMALE, birth_date=dt.date(1985, 3, 14))
MAN = PatientFacts(sex=Sex.MALE, birth_date=dt.date(1985, 3, 14))


def candidate(session_id: int, **overrides: Any) -> Candidate:
    values: dict[str, Any] = {
        "session_id": session_id,
        "hospital_id": 10,
        "grade": "三级甲等",
        "city": "福州",
        "department": DepartmentFacts(
            department_id=1000, sex_restriction=SexRestriction.ANY, min_age=None, max_age=None
        ),
        "specialty": "internal",
        "doctor_id": 101,
        "title": DoctorTitle.CHIEF,
        "session_date": DAY,
        "starts_at": T0 + dt.timedelta(hours=session_id),
        "free": 3,
    }
    values.update(overrides)
    return Candidate(**values)


def booker(patient: PatientFacts = WOMAN, booked: dict[dt.date, list[int]] | None = None) -> Booker:
    return Booker(patient=patient, booked_departments=booked or {})


def ids(ranked: list[Any]) -> list[int]:
    return [r.candidate.session_id for r in ranked]


def test_the_same_doctor_comes_first_then_the_department_then_nearby_hospitals() -> None:
    nearby = candidate(2, hospital_id=11, doctor_id=200)
    same_department = candidate(3, doctor_id=101)
    same_doctor = candidate(4, doctor_id=100, session_date=DAY + dt.timedelta(days=2))

    ranked = rank(wanted=WANTED, candidates=[nearby, same_department, same_doctor])

    assert ids(ranked) == [4, 3, 2]
    assert [r.tier for r in ranked] == [
        Tier.SAME_DOCTOR,
        Tier.SAME_DEPARTMENT,
        Tier.SAME_GRADE_NEARBY,
    ]
    assert ranked[0].reason == "same doctor, another day"


def test_within_a_tier_the_soonest_session_comes_first() -> None:
    later = candidate(2, starts_at=T0 + dt.timedelta(days=3))
    sooner = candidate(3, starts_at=T0 + dt.timedelta(days=1))

    assert ids(rank(wanted=WANTED, candidates=[later, sooner])) == [3, 2]


def test_the_wanted_session_itself_is_never_offered() -> None:
    assert rank(wanted=WANTED, candidates=[candidate(1, doctor_id=100)]) == []


def test_another_title_or_specialty_is_not_an_alternative() -> None:
    other_title = candidate(2, title=DoctorTitle.ATTENDING)
    other_specialty = candidate(3, specialty="surgery")

    assert rank(wanted=WANTED, candidates=[other_title, other_specialty]) == []


def test_hospitals_of_another_grade_or_city_are_not_offered() -> None:
    other_grade = candidate(2, hospital_id=11, grade="二级甲等")
    other_city = candidate(3, hospital_id=12, city="厦门")
    same = candidate(4, hospital_id=13)

    assert ids(rank(wanted=WANTED, candidates=[other_grade, other_city, same])) == [4]


def test_the_same_doctor_is_offered_whatever_the_title_recorded_today() -> None:
    assert tier_of(WANTED, candidate(2, doctor_id=100, title=DoctorTitle.ATTENDING)) == (
        Tier.SAME_DOCTOR
    )


def test_full_sessions_are_not_offered() -> None:
    assert rank(wanted=WANTED, candidates=[candidate(2, free=0)]) == []


def test_a_man_is_never_offered_a_female_only_department() -> None:
    gynaecology = DepartmentFacts(
        department_id=2000, sex_restriction=SexRestriction.FEMALE, min_age=None, max_age=None
    )
    female_only = candidate(2, department=gynaecology)

    assert rank(wanted=WANTED, candidates=[female_only], booker=booker(MAN)) == []
    assert ids(rank(wanted=WANTED, candidates=[female_only], booker=booker(WOMAN))) == [2]


def test_an_adult_is_not_offered_a_paediatric_department() -> None:
    paediatrics = DepartmentFacts(
        department_id=3000, sex_restriction=SexRestriction.ANY, min_age=None, max_age=14
    )

    assert (
        rank(wanted=WANTED, candidates=[candidate(2, department=paediatrics)], booker=booker())
        == []
    )


def test_a_department_day_the_patient_already_has_is_not_offered() -> None:
    booked_day = candidate(2)
    next_day = candidate(3, session_date=DAY + dt.timedelta(days=1))

    ranked = rank(
        wanted=WANTED, candidates=[booked_day, next_day], booker=booker(booked={DAY: [1000]})
    )

    assert ids(ranked) == [3]


def test_a_day_at_the_daily_cap_is_not_offered() -> None:
    full_day = booker(booked={DAY: [7, 8]})
    assert rank(wanted=WANTED, candidates=[candidate(2)], booker=full_day) == []
    generous = replace(full_day, limits=Limits(max_per_day=3))
    assert ids(rank(wanted=WANTED, candidates=[candidate(2)], booker=generous)) == [2]


def test_at_most_limit_alternatives_are_returned_best_first() -> None:
    many = [candidate(i, starts_at=T0 + dt.timedelta(hours=i)) for i in range(2, 30)]

    ranked = rank(wanted=WANTED, candidates=reversed(many))

    assert ids(ranked) == list(range(2, 12))
    assert ids(rank(wanted=WANTED, candidates=many, limit=3)) == [2, 3, 4]
