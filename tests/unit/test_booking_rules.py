import random
from datetime import UTC, date, datetime, timedelta

from fairslot.bookings import rules
from fairslot.hospitals.models import SexRestriction
from fairslot.patients.identity import Sex

LIMITS = rules.Limits(max_per_day=2, max_active_future=5, no_show_ban_days=(30, 60, 90))
NOW = datetime(2026, 11, 22, 2, 0, tzinfo=UTC)


def _dept(restriction=SexRestriction.ANY, min_age=None, max_age=None):
    return rules.DepartmentFacts(
        department_id=7, sex_restriction=restriction, min_age=min_age, max_age=max_age
    )


def _patient(sex=Sex.FEMALE, born=date(1990, 5, 1)):
    return rules.PatientFacts(sex=sex, birth_date=born)


def test_a_man_cannot_book_gynaecology():
    refusal = rules.check_eligibility(
        patient=_patient(Sex.MALE),
        department=_dept(SexRestriction.FEMALE),
        session_date=date(2026, 11, 29),
    )
    assert refusal is not None and refusal.code == "department_sex_restricted"
    assert "female" in refusal.detail and refusal.detail_zh


def test_a_woman_cannot_book_andrology_but_can_book_gynaecology():
    assert (
        rules.check_eligibility(
            patient=_patient(Sex.FEMALE),
            department=_dept(SexRestriction.MALE),
            session_date=date(2026, 11, 29),
        ).code
        == "department_sex_restricted"
    )
    assert (
        rules.check_eligibility(
            patient=_patient(Sex.FEMALE),
            department=_dept(SexRestriction.FEMALE),
            session_date=date(2026, 11, 29),
        )
        is None
    )


def test_paediatrics_refuses_a_patient_older_than_its_age_range_on_the_session_day():
    dept = _dept(max_age=14)
    # 14 until the day before the 15th birthday
    child = _patient(born=date(2012, 11, 30))
    assert (
        rules.check_eligibility(patient=child, department=dept, session_date=date(2026, 11, 29))
        is None
    )
    refusal = rules.check_eligibility(
        patient=child, department=dept, session_date=date(2027, 11, 30)
    )
    assert refusal is not None and refusal.code == "department_age_restricted"


def test_one_booking_per_department_per_day():
    refusal = rules.check_daily_limits(same_day_departments=[7], department_id=7, limits=LIMITS)
    assert refusal is not None and refusal.code == "duplicate_department_day"
    assert refusal.status == 409


def test_at_most_two_bookings_per_patient_per_day():
    assert (
        rules.check_daily_limits(same_day_departments=[1], department_id=7, limits=LIMITS) is None
    )
    refusal = rules.check_daily_limits(same_day_departments=[1, 2], department_id=7, limits=LIMITS)
    assert refusal is not None and refusal.code == "daily_limit"


def test_active_future_bookings_are_capped():
    assert rules.check_future_limit(pending_future=4, limits=LIMITS) is None
    assert rules.check_future_limit(pending_future=5, limits=LIMITS).code == "active_booking_limit"


def test_no_show_bans_escalate_30_60_90_days():
    first = NOW - timedelta(days=1)
    assert rules.no_show_ban_until(no_show_times=[first], now=NOW, limits=LIMITS) == first + (
        timedelta(days=30)
    )
    second = [NOW - timedelta(days=100), NOW - timedelta(days=1)]
    assert rules.no_show_ban_until(no_show_times=second, now=NOW, limits=LIMITS) == (
        second[-1] + timedelta(days=60)
    )
    many = [NOW - timedelta(days=d) for d in (300, 200, 100, 1)]
    assert rules.no_show_ban_until(no_show_times=many, now=NOW, limits=LIMITS) == (
        many[-1] + timedelta(days=90)
    )


def test_a_served_ban_no_longer_applies():
    past = [NOW - timedelta(days=31)]
    assert rules.no_show_ban_until(no_show_times=past, now=NOW, limits=LIMITS) is None


def test_no_shows_older_than_the_window_do_not_count():
    old = [NOW - timedelta(days=400), NOW - timedelta(days=2)]
    assert rules.no_show_ban_until(no_show_times=old, now=NOW, limits=LIMITS) == (
        old[-1] + timedelta(days=30)
    )


def test_ban_refusal_names_the_local_date():
    refusal = rules.check_no_show_ban(ban_until=NOW, local_date=date(2026, 12, 21))
    assert refusal is not None and "2026-12-21" in refusal.detail and refusal.status == 403


def test_cancellation_is_refused_inside_the_cut_off():
    starts = NOW + timedelta(minutes=119)
    assert (
        rules.check_cancellable(session_starts_at=starts, now=NOW, limits=LIMITS).code
        == "cancel_cutoff"
    )
    assert (
        rules.check_cancellable(
            session_starts_at=NOW + timedelta(minutes=121), now=NOW, limits=LIMITS
        )
        is None
    )


def test_cooling_delay_is_drawn_within_the_configured_range():
    rng = random.Random(7)
    delays = [rules.draw_cooling(rng=rng, min_minutes=10, max_minutes=180) for _ in range(2000)]
    assert min(delays) >= timedelta(minutes=10)
    assert max(delays) <= timedelta(minutes=180)
    # uniform: both ends of the range are reached, not a fixed delay
    assert min(delays) < timedelta(minutes=15) and max(delays) > timedelta(minutes=175)


def test_cooling_delay_is_exact_with_a_seeded_source():
    a = rules.draw_cooling(rng=random.Random(99), min_minutes=10, max_minutes=180)
    b = rules.draw_cooling(rng=random.Random(99), min_minutes=10, max_minutes=180)
    assert a == b
