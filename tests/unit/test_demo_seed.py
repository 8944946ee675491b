"""The demo's plan of doctors and sessions: realistic, and the same for the same seed; its
staff: one account per role, never on production settings."""

from __future__ import annotations

import random
import re
from datetime import date, time, timedelta
from decimal import Decimal
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest

from fairslot.config import DEV_DATA_KEY, load_settings
from fairslot.demo import catalog
from fairslot.demo.catalog import PlannedDoctor, plan_doctors, plan_sessions
from fairslot.demo.scalpers import IDENTITIES, booking_times
from fairslot.demo.seed import DAYS_RELEASED
from fairslot.demo.staff import require_development
from fairslot.hospitals.kinds import DoctorTitle, SexRestriction
from fairslot.schedules.states import Period
from fairslot.staff.roles import Role

MONDAY = date(2026, 11, 23)


def _plan(seed: int) -> dict[str, list[PlannedDoctor]]:
    rng = random.Random(seed)
    return {
        h.code: [
            doctor
            for d in catalog.DEPARTMENTS
            if d.code in catalog.HOSPITAL_DEPARTMENTS[h.code]
            for doctor in plan_doctors(h, department=d, rng=rng)
        ]
        for h in catalog.HOSPITALS
    }


def test_the_same_seed_gives_the_same_doctors_and_sessions() -> None:
    days = [MONDAY + timedelta(days=n) for n in range(DAYS_RELEASED + 1)]
    first, second = _plan(11), _plan(11)

    assert first == second
    assert plan_sessions(first["PUH1"], days=days) == plan_sessions(second["PUH1"], days=days)
    assert _plan(12) != first


def test_the_catalog_has_restricted_departments_and_hospitals_of_several_grades() -> None:
    by_code = {d.code: d for d in catalog.DEPARTMENTS}

    assert len(by_code) >= 10
    assert by_code["GYN"].sex == by_code["OBS"].sex == SexRestriction.FEMALE
    assert by_code["AND"].sex == SexRestriction.MALE
    assert by_code["PED"].max_age == 14
    assert len({h.grade for h in catalog.HOSPITALS}) >= 3
    assert all(set(codes) <= by_code.keys() for codes in catalog.HOSPITAL_DEPARTMENTS.values())


def test_there_are_at_least_forty_doctors_of_every_title() -> None:
    doctors = [d for staff in _plan(1).values() for d in staff]

    assert len(doctors) >= 40
    assert {d.title for d in doctors} == set(DoctorTitle)
    assert all(len({d.code for d in staff}) == len(staff) for staff in _plan(1).values())


def test_scarce_tertiary_departments_are_led_by_a_chief_with_few_slots() -> None:
    plan = _plan(2)
    for hospital in ("PUH1", "BJCH"):
        heads = {}
        for doctor in plan[hospital]:
            heads.setdefault(doctor.department.code, doctor)
        scarce = [head for head in heads.values() if head.department.scarce]
        assert scarce
        for head in scarce:
            assert head.title == DoctorTitle.CHIEF
            assert head.capacity <= catalog.SCARCE_CHIEF_CAPACITY[1]


def test_the_community_centre_has_no_chief_physician() -> None:
    assert all(d.title in catalog.GRADE_TITLES["一级甲等"] for d in _plan(3)["HDCH"])


def test_sessions_follow_each_doctors_week_with_realistic_hours_and_capacity() -> None:
    staff = _plan(4)["PUH1"]
    days = [MONDAY + timedelta(days=n) for n in range(14)]

    sessions = plan_sessions(staff, days=days)

    doctors = {d.code: d for d in staff}
    assert len({s.his_session_id for s in sessions}) == len(sessions)
    for s in sessions:
        doctor = doctors[s.doctor]
        assert (s.session_date.weekday(), s.period) in doctor.week
        assert (s.local_start, s.local_end) == {
            Period.MORNING: (time(8, 0), time(12, 0)),
            Period.AFTERNOON: (time(13, 30), time(17, 0)),
        }[s.period]
        assert 1 <= s.capacity <= 30
        assert s.fee == Decimal(catalog.FEES[doctor.title])
        if s.session_date.weekday() == 6:
            assert s.department in catalog.SUNDAY_DEPARTMENTS
    # Each doctor holds the clinics of their title, every week.
    for doctor in staff:
        held = sum(1 for s in sessions if s.doctor == doctor.code)
        assert held == 2 * catalog.HALF_DAYS_PER_WEEK[doctor.title]


def test_only_the_window_reserves_a_share_of_each_session() -> None:
    shares = {c.code: (c.reserved_share, c.reserve_return_minutes) for c in catalog.CHANNELS}

    assert set(shares) == {"hospital_app", "wechat", "alipay", "third_party", "phone", "window"}
    assert shares["window"] == (Decimal("0.2"), 120)
    assert all(share == 0 for code, (share, _) in shares.items() if code != "window")


def test_there_is_one_demo_staff_account_per_role_with_a_valid_username() -> None:
    assert sorted(s.role for s in catalog.STAFF) == sorted(Role)
    for member in catalog.STAFF:
        assert re.fullmatch(r"[a-z0-9._]{1,64}", member.username)
        assert member.name and member.duty
    assert len({s.username for s in catalog.STAFF}) == len(catalog.STAFF)


def test_the_demo_refuses_production_settings() -> None:
    production = load_settings(environment="production", data_key=DEV_DATA_KEY, hash_key="x" * 32)
    with pytest.raises(RuntimeError, match="development"):
        require_development(production)
    require_development(load_settings(environment="development"))


def test_the_demo_scalper_books_yesterday_morning_at_a_persons_pace() -> None:
    zone = ZoneInfo("Asia/Shanghai")
    day = MONDAY - timedelta(days=1)
    times = booking_times(day, zone=zone, count=IDENTITIES)
    assert IDENTITIES >= 5  # enough for the paper's same-card rule to see him
    assert all(t.astimezone(zone).date() == day for t in times)
    assert times[0].astimezone(zone).time() == time(9, 0)
    gaps = {later - earlier for earlier, later in pairwise(times)}
    assert min(gaps) >= timedelta(minutes=10)
