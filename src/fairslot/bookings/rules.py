"""Booking rules as pure functions of facts and settings. No database, no web.

Each check returns ``None`` (allowed) or a :class:`Refusal` naming the rule, with a
message the patient can act on, in English and Chinese.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from fairslot.hospitals.kinds import SexRestriction
from fairslot.patients.identity import Sex, age_on


@dataclass(frozen=True)
class Limits:
    max_per_day: int = 2
    max_active_future: int = 5
    no_show_ban_days: tuple[int, ...] = (30, 60, 90)
    no_show_window_days: int = 365
    cancel_cutoff_minutes: int = 120


@dataclass(frozen=True)
class Refusal:
    code: str
    detail: str
    detail_zh: str
    status: int = 422


@dataclass(frozen=True)
class PatientFacts:
    sex: Sex
    birth_date: date


@dataclass(frozen=True)
class DepartmentFacts:
    department_id: int
    sex_restriction: SexRestriction
    min_age: int | None
    max_age: int | None


def check_eligibility(
    *, patient: PatientFacts, department: DepartmentFacts, session_date: date
) -> Refusal | None:
    restriction = department.sex_restriction
    if restriction == SexRestriction.FEMALE and patient.sex != Sex.FEMALE:
        return Refusal(
            "department_sex_restricted",
            "This department sees female patients only.",
            "该科室仅接诊女性患者。",
        )
    if restriction == SexRestriction.MALE and patient.sex != Sex.MALE:
        return Refusal(
            "department_sex_restricted",
            "This department sees male patients only.",
            "该科室仅接诊男性患者。",
        )
    age = age_on(patient.birth_date, session_date)
    if department.min_age is not None and age < department.min_age:
        return Refusal(
            "department_age_restricted",
            f"This department sees patients aged {department.min_age} and over.",
            f"该科室仅接诊{department.min_age}岁及以上患者。",
        )
    if department.max_age is not None and age > department.max_age:
        return Refusal(
            "department_age_restricted",
            f"This department sees patients up to age {department.max_age}; "
            "please choose an adult department.",
            f"该科室仅接诊{department.max_age}岁及以下患者，请选择成人科室。",
        )
    return None


def check_daily_limits(
    *, same_day_departments: list[int], department_id: int, limits: Limits
) -> Refusal | None:
    """``same_day_departments``: the departments of the patient's occupying bookings that day."""
    if department_id in same_day_departments:
        return Refusal(
            "duplicate_department_day",
            "This patient already has a booking in this department on this day.",
            "该就诊人当天在该科室已有预约。",
            status=409,
        )
    if len(same_day_departments) >= limits.max_per_day:
        return Refusal(
            "daily_limit",
            f"A patient may hold at most {limits.max_per_day} bookings on one day.",
            f"每位就诊人每天最多预约{limits.max_per_day}个号。",
            status=409,
        )
    return None


def check_future_limit(*, pending_future: int, limits: Limits) -> Refusal | None:
    if pending_future >= limits.max_active_future:
        return Refusal(
            "active_booking_limit",
            f"A patient may hold at most {limits.max_active_future} upcoming bookings; "
            "attend or cancel one first.",
            f"每位就诊人最多同时持有{limits.max_active_future}个未就诊预约，请先就诊或取消。",
            status=409,
        )
    return None


def no_show_ban_until(
    *, no_show_times: list[datetime], now: datetime, limits: Limits
) -> datetime | None:
    """Escalating bans: the n-th no-show within the window bans for the n-th ladder step."""
    window_start = now - timedelta(days=limits.no_show_window_days)
    recent = sorted(t for t in no_show_times if t >= window_start)
    if not recent or not limits.no_show_ban_days:
        return None
    step = limits.no_show_ban_days[min(len(recent), len(limits.no_show_ban_days)) - 1]
    until = recent[-1] + timedelta(days=step)
    return until if until > now else None


def check_no_show_ban(*, ban_until: datetime | None, local_date: date | None) -> Refusal | None:
    if ban_until is None:
        return None
    shown = local_date.isoformat() if local_date else ban_until.date().isoformat()
    return Refusal(
        "no_show_ban",
        f"Booking is suspended until {shown} after missed appointments.",
        f"因爽约，预约功能暂停至{shown}。",
        status=403,
    )


def check_cancellable(
    *, session_starts_at: datetime, now: datetime, limits: Limits
) -> Refusal | None:
    if now > session_starts_at - timedelta(minutes=limits.cancel_cutoff_minutes):
        return Refusal(
            "cancel_cutoff",
            f"Bookings can be cancelled up to {limits.cancel_cutoff_minutes} minutes before "
            "the session; please contact the hospital.",
            f"就诊前{limits.cancel_cutoff_minutes}分钟内不可在线取消，请联系医院。",
            status=409,
        )
    return None


def draw_cooling(*, rng: random.Random, min_minutes: int, max_minutes: int) -> timedelta:
    """How long a cancelled slot stays invisible: uniform over [min, max], to the second."""
    low, high = sorted((min_minutes * 60, max_minutes * 60))
    return timedelta(seconds=rng.randint(low, high))
