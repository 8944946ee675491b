"""Ranking alternatives to a session a patient could not have. Pure: no database, no web.

Tiers, best first: the same doctor in another session; the same specialty and title at the
same hospital; the same specialty and title at a hospital of the same grade in the same
city. Soonest first within a tier. Only sessions this patient is eligible for (sex, age,
one per department-day, the daily cap) and could book now (a free slot) — or, when the
caller asks, could enter (an open draw or waitlist).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from fairslot.bookings.rules import (
    DepartmentFacts,
    Limits,
    PatientFacts,
    check_daily_limits,
    check_eligibility,
)
from fairslot.hospitals.kinds import DoctorTitle

DEFAULT_LIMIT = 10


class Tier(enum.IntEnum):
    SAME_DOCTOR = 1
    SAME_DEPARTMENT = 2
    SAME_GRADE_NEARBY = 3


@dataclass(frozen=True)
class Wanted:
    """The session the patient could not have."""

    session_id: int
    hospital_id: int
    grade: str
    city: str
    specialty: str
    doctor_id: int
    title: DoctorTitle
    session_date: date


@dataclass(frozen=True)
class Candidate:
    session_id: int
    hospital_id: int
    grade: str
    city: str
    department: DepartmentFacts
    specialty: str
    doctor_id: int
    title: DoctorTitle
    session_date: date
    starts_at: datetime
    free: int


@dataclass(frozen=True)
class Ranked:
    candidate: Candidate
    tier: Tier
    reason: str
    reason_zh: str


@dataclass(frozen=True)
class Booker:
    """What the rules need to know about the patient asking (absent: anyone)."""

    patient: PatientFacts
    # Departments of the patient's occupying bookings, by session date.
    booked_departments: Mapping[date, Sequence[int]]
    limits: Limits = field(default_factory=Limits)


_REASONS: dict[Tier, tuple[str, str]] = {
    Tier.SAME_DOCTOR: ("same doctor, another day", "同一医生，其他日期"),
    Tier.SAME_DEPARTMENT: (
        "same department and title, another doctor",
        "同一科室、同职称的其他医生",
    ),
    Tier.SAME_GRADE_NEARBY: (
        "same specialty and title at a hospital of the same grade in the same city",
        "同城同级医院的同专科、同职称医生",
    ),
}


def tier_of(wanted: Wanted, candidate: Candidate) -> Tier | None:
    """The tier ``candidate`` belongs to as an alternative to ``wanted``, or None."""
    if candidate.session_id == wanted.session_id:
        return None
    if candidate.doctor_id == wanted.doctor_id:
        return Tier.SAME_DOCTOR
    if candidate.specialty != wanted.specialty or candidate.title != wanted.title:
        return None
    if candidate.hospital_id == wanted.hospital_id:
        return Tier.SAME_DEPARTMENT
    if candidate.grade == wanted.grade and candidate.city == wanted.city:
        return Tier.SAME_GRADE_NEARBY
    return None


def can_take(candidate: Candidate, *, booker: Booker | None) -> bool:
    """Whether this patient could book ``candidate`` now."""
    if candidate.free <= 0:
        return False
    if booker is None:
        return True
    refusal = check_eligibility(
        patient=booker.patient,
        department=candidate.department,
        session_date=candidate.session_date,
    ) or check_daily_limits(
        same_day_departments=list(booker.booked_departments.get(candidate.session_date, ())),
        department_id=candidate.department.department_id,
        limits=booker.limits,
    )
    return refusal is None


def rank(
    *,
    wanted: Wanted,
    candidates: Iterable[Candidate],
    booker: Booker | None = None,
    limit: int = DEFAULT_LIMIT,
) -> list[Ranked]:
    """At most ``limit`` alternatives, by tier, then soonest first."""
    ranked: list[Ranked] = []
    for candidate in candidates:
        tier = tier_of(wanted, candidate)
        if tier is None or not can_take(candidate, booker=booker):
            continue
        reason, reason_zh = _REASONS[tier]
        if tier is Tier.SAME_DOCTOR and candidate.session_date == wanted.session_date:
            reason, reason_zh = "same doctor, another session that day", "同一医生，当天其他时段"
        ranked.append(Ranked(candidate=candidate, tier=tier, reason=reason, reason_zh=reason_zh))
    ranked.sort(key=lambda r: (r.tier, r.candidate.starts_at, r.candidate.session_id))
    return ranked[: max(limit, 0)]
