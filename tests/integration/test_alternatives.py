"""Alternatives to a full session through the service, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import random
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest

from factories.batches import alike_batch_department, open_batch
from factories.bookings import hold
from factories.demand import create_channel
from factories.supply import create_department, create_doctor, create_hospital, import_session
from factories.world import RELEASED_DAY, UNRELEASED_DAY, World, make_world
from fairslot.alternatives import repository as alternatives_repo
from fairslot.alternatives import service as alternatives
from fairslot.alternatives.schemas import AlternativeView
from fairslot.alternatives.service import AlternativesMemo
from fairslot.errors import DomainError
from fairslot.hospitals.models import Department, Doctor, DoctorTitle, Hospital, SexRestriction
from fairslot.memo import ALTERNATIVES_FOR, Memo
from fairslot.patients.identity import Sex
from fairslot.patients.models import Patient
from fairslot.schedules.models import ClinicSession
from fairslot.schedules.states import Period

DAY = dt.timedelta(days=1)


@pytest.fixture
def world(db, platform) -> World:
    return make_world(db, platform)


def push(
    world: World,
    *,
    hospital: Hospital | None = None,
    department: Department | None = None,
    doctor: Doctor | None = None,
    day: dt.date = RELEASED_DAY,
    capacity: int = 3,
    **spec: object,
) -> ClinicSession:
    world.db.commit()
    session = import_session(
        world.db,
        hospital=hospital or world.hospital,
        department=department or world.department,
        doctor=doctor or world.doctor,
        date=day,
        now=world.now(),
        capacity=capacity,
        **spec,
    )
    world.db.commit()
    world.sessions.append(session)
    return session


def other_hospital(world: World, **overrides: object) -> tuple[Hospital, Department, Doctor]:
    values: dict[str, object] = {
        "grade": world.hospital.grade,
        "city": world.hospital.city,
    }
    values.update(overrides)
    hospital = create_hospital(world.db, **values)
    department = create_department(
        world.db, hospital=hospital, specialty=world.department.specialty
    )
    doctor = create_doctor(world.db, hospital=hospital, department=department)
    world.db.commit()
    return hospital, department, doctor


def fill(world: World, session: ClinicSession) -> None:
    """Hold every slot of ``session`` for other patients."""
    for slot in world.slots(session):
        account, patient = world.patient()
        hold(world, account, patient, slot.id)


def offered(
    world: World, session: ClinicSession, patient: Patient | None = None, **kwargs: object
) -> list[AlternativeView]:
    views = alternatives.alternatives_for(
        world.db,
        session_id=session.id,
        patient_id=patient.id if patient else None,
        now=world.now(),
        channel_id=world.channel.id,
        limits=world.policy.limits,
        **kwargs,  # type: ignore[arg-type]
    )
    world.db.commit()
    return views


def test_alternatives_are_ranked_by_doctor_then_department_then_nearby_hospitals(
    world: World,
) -> None:
    wanted = push(world, capacity=1)
    fill(world, wanted)
    colleague = create_doctor(world.db, hospital=world.hospital, department=world.department)
    hospital2, department2, doctor2 = other_hospital(world)
    nearby = push(world, hospital=hospital2, department=department2, doctor=doctor2)
    same_department = push(world, doctor=colleague, day=RELEASED_DAY + DAY)
    same_doctor = push(world, day=RELEASED_DAY + 2 * DAY)

    views = offered(world, wanted)

    assert [v.session_id for v in views] == [same_doctor.id, same_department.id, nearby.id]
    assert [v.tier for v in views] == [1, 2, 3]
    assert views[0].reason == "same doctor, another day"
    assert views[0].free == 3 and views[2].hospital_id == hospital2.id
    assert views[0].starts_at.utcoffset() == dt.timedelta(hours=8)  # the hospital's zone


def test_within_a_tier_the_soonest_session_comes_first(world: World) -> None:
    wanted = push(world, capacity=1)
    later = push(world, day=RELEASED_DAY + 3 * DAY)
    sooner = push(world, day=RELEASED_DAY + DAY)

    assert [v.session_id for v in offered(world, wanted)] == [sooner.id, later.id]


def test_full_closed_unreleased_and_other_title_sessions_are_not_offered(world: World) -> None:
    wanted = push(world, capacity=1)
    full = push(world, capacity=1, day=RELEASED_DAY + DAY)
    fill(world, full)
    push(world, day=UNRELEASED_DAY)
    attending = create_doctor(
        world.db, hospital=world.hospital, department=world.department, title=DoctorTitle.ATTENDING
    )
    push(world, doctor=attending, day=RELEASED_DAY + DAY)
    today = push(world, day=dt.date(2026, 11, 22))  # 08:00 Shanghai: closes at 07:30
    open_ = push(world, day=RELEASED_DAY + 2 * DAY)

    ids = [v.session_id for v in offered(world, wanted)]

    assert ids == [open_.id]
    assert today.id not in ids


def test_hospitals_of_another_grade_or_city_are_not_offered(world: World) -> None:
    wanted = push(world, capacity=1)
    for overrides in ({"grade": "二级甲等"}, {"city": "厦门"}):
        hospital, department, doctor = other_hospital(world, **overrides)
        push(world, hospital=hospital, department=department, doctor=doctor)

    assert offered(world, wanted) == []


def test_a_man_is_never_offered_a_female_only_department(world: World) -> None:
    wanted = push(world, capacity=1)
    womens = create_department(
        world.db,
        hospital=world.hospital,
        specialty=world.department.specialty,
        sex_restriction=SexRestriction.FEMALE,
    )
    doctor = create_doctor(world.db, hospital=world.hospital, department=womens)
    female_only = push(world, department=womens, doctor=doctor)
    _, man = world.patient(sex=Sex.MALE)
    _, woman = world.patient(sex=Sex.FEMALE)

    assert offered(world, wanted, man) == []
    assert [v.session_id for v in offered(world, wanted, woman)] == [female_only.id]


def test_a_department_day_the_patient_already_booked_is_not_offered(world: World) -> None:
    wanted = push(world, capacity=1)
    booked_day = push(world, day=RELEASED_DAY + DAY)
    free_day = push(world, day=RELEASED_DAY + 2 * DAY)
    account, patient = world.patient()
    hold(world, account, patient, world.slots(booked_day)[0].id)

    assert [v.session_id for v in offered(world, wanted, patient)] == [free_day.id]
    assert [v.session_id for v in offered(world, wanted)] == [booked_day.id, free_day.id]


def test_an_account_can_only_ask_for_a_patient_bound_to_it(world: World) -> None:
    wanted = push(world, capacity=1)
    stranger_account, _ = world.patient()
    _, patient = world.patient()

    with pytest.raises(DomainError) as info:
        offered(world, wanted, patient, account_id=stranger_account.id)
    world.db.rollback()

    assert info.value.code == "patient_not_bound"


def test_an_unreleased_session_has_no_alternatives_because_it_does_not_exist(
    world: World,
) -> None:
    hidden = push(world, day=UNRELEASED_DAY)

    with pytest.raises(DomainError) as info:
        offered(world, hidden)
    world.db.rollback()

    assert info.value.code == "session_not_found"


def test_at_most_limit_alternatives_are_offered(world: World) -> None:
    wanted = push(world, capacity=1)
    for days in range(1, 5):
        push(world, day=RELEASED_DAY + days * DAY)

    assert len(offered(world, wanted, limit=2)) == 2


def test_slots_reserved_for_another_channel_do_not_count_as_free(world: World) -> None:
    window, _ = create_channel(world.db, reserved_share=Decimal("0.5"))
    world.db.commit()
    wanted = push(world, capacity=1)
    candidate = push(world, capacity=2, day=RELEASED_DAY + DAY)

    mine = offered(world, wanted)
    theirs = alternatives.alternatives_for(
        world.db, session_id=wanted.id, patient_id=None, now=world.now(), channel_id=window.id
    )
    world.db.commit()

    assert [(v.session_id, v.free) for v in mine] == [(candidate.id, 1)]
    assert [(v.session_id, v.free) for v in theirs] == [(candidate.id, 2)]


def test_the_same_doctors_other_session_that_day_says_so(world: World) -> None:
    wanted = push(world, capacity=1)
    afternoon = push(world, period=Period.AFTERNOON, start=dt.time(14, 0), end=dt.time(17, 0))

    views = offered(world, wanted)

    assert [(v.session_id, v.tier) for v in views] == [(afternoon.id, 1)]
    assert views[0].reason == "same doctor, another session that day"


def test_a_session_whose_release_batch_is_pending_is_not_offered(world: World) -> None:
    # Whether a candidate is on sale is asked once per session, not per slot
    # (alternatives/repository.py): its free slots do not make it an alternative.
    wanted = push(world, capacity=1)
    batch_mode, doctor = alike_batch_department(world)
    pending = push(world, department=batch_mode, doctor=doctor, day=RELEASED_DAY + DAY)
    open_batch(world, pending, rng=random.Random(7))
    first_come = push(world, day=RELEASED_DAY + 2 * DAY)

    ids = [v.session_id for v in offered(world, wanted)]

    assert ids == [first_come.id]


def test_concurrent_refusals_that_find_the_neighbourhood_lapsed_read_it_once(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    wanted = push(world, capacity=1)
    other = push(world, day=RELEASED_DAY + DAY)
    memo: AlternativesMemo = Memo(ttl=ALTERNATIVES_FOR)
    reads: list[int] = []
    real = alternatives_repo.candidate_sessions

    def counted(*args: object, **kwargs: object) -> object:
        reads.append(1)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(alternatives_repo, "candidate_sessions", counted)
    now = world.now()

    def refuse() -> list[int]:
        with world.platform.sessions() as db:
            hood = alternatives.neighbourhood(
                db, session_id=wanted.id, now=now, channel_id=world.channel.id, memo=memo
            )
            return [o.candidate.session_id for o in hood.offers]

    with ThreadPoolExecutor(max_workers=8) as pool:
        found = list(pool.map(lambda _: refuse(), range(16)))

    assert found == [[wanted.id, other.id]] * 16
    assert len(reads) == 1
