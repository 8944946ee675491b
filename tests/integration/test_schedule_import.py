"""Schedule import, capacity changes and withdrawal, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from factories.demand import create_account, create_channel, create_patient
from factories.supply import (
    create_department,
    create_doctor,
    create_hospital,
    create_hospital_with_key,
    push,
    session_spec,
)
from fairslot.bookings import service as bookings
from fairslot.bookings.models import Booking
from fairslot.bookings.policy import booking_policy
from fairslot.bookings.states import BookingStatus
from fairslot.bootstrap import Platform
from fairslot.channels.models import Channel
from fairslot.clock import ManualClock
from fairslot.context import RequestContext
from fairslot.crypto import hash_api_key
from fairslot.db.engine import unit_of_work
from fairslot.hospitals import repository as hospitals_repo
from fairslot.hospitals import service as hospitals
from fairslot.hospitals.errors import HospitalExists, InvalidHospital
from fairslot.hospitals.models import SexRestriction
from fairslot.hospitals.schemas import DepartmentIn, DoctorIn
from fairslot.ledger.events import EventKind
from fairslot.ledger.models import SlotEvent
from fairslot.notifications.models import Audience, Notification
from fairslot.schedules import release_change, views, withdrawal
from fairslot.schedules import service as schedules
from fairslot.schedules.errors import ScheduleInvalid, SessionNotFound, WrongHospital
from fairslot.schedules.formats import ScheduleDocument, SessionSpec
from fairslot.schedules.models import ClinicSession, Slot
from fairslot.schedules.schemas import ImportReport, Outcome
from fairslot.schedules.states import Period, SessionStatus, SlotState

RELEASED_DAY = date(2026, 11, 25)  # released on 11-18; the clock starts on 11-22
UNRELEASED_DAY = date(2026, 12, 5)  # released on 11-28


class Supply:
    def __init__(self, db: Session) -> None:
        self.hospital = create_hospital(db)
        self.department = create_department(db, hospital=self.hospital, code="GYN")
        self.doctor = create_doctor(
            db, hospital=self.hospital, department=self.department, code="DR1"
        )
        db.commit()

    def spec(self, **overrides: object) -> SessionSpec:
        values: dict[str, object] = {"his_session_id": "S1", "date": RELEASED_DAY}
        values.update(overrides)
        return session_spec(department=self.department, doctor=self.doctor, **values)  # type: ignore[arg-type]


@pytest.fixture
def supply(db: Session) -> Supply:
    return Supply(db)


def _push(db: Session, supply: Supply, now: datetime, *specs: SessionSpec) -> ImportReport:
    report = push(db, hospital=supply.hospital, sessions=list(specs), now=now)
    db.commit()
    return report


def _session(db: Session, supply: Supply, his_id: str = "S1") -> ClinicSession:
    session = db.scalars(
        select(ClinicSession)
        .where(
            ClinicSession.hospital_id == supply.hospital.id,
            ClinicSession.his_session_id == his_id,
        )
        .execution_options(populate_existing=True)
    ).one()
    return session


def _slots(db: Session, session: ClinicSession) -> list[Slot]:
    return list(
        db.scalars(
            select(Slot)
            .where(Slot.session_id == session.id)
            .order_by(Slot.number)
            .execution_options(populate_existing=True)
        )
    )


def _events(db: Session, kind: EventKind | None = None) -> int:
    stmt = select(func.count()).select_from(SlotEvent)
    if kind is not None:
        stmt = stmt.where(SlotEvent.kind == kind)
    return int(db.scalar(stmt) or 0)


def _hold(db: Session, platform: Platform, slot: Slot, channel: Channel | None = None) -> Booking:
    channel = channel or create_channel(db)[0]
    account = create_account(db, platform, channel_id=channel.id)
    patient = create_patient(db, platform, account=account)
    booking = bookings.hold(
        db,
        account_id=account.id,
        patient_id=patient.id,
        slot_id=slot.id,
        now=platform.clock.now(),
        ctx=RequestContext(actor="patient", channel_id=channel.id, account_id=account.id),
        policy=booking_policy(platform.settings),
        rng=platform.rng,
    )
    db.commit()
    return booking


def _book(db: Session, platform: Platform, slot: Slot) -> Booking:
    booking = _hold(db, platform, slot)
    bookings.confirm(
        db,
        booking_id=booking.id,
        account_id=booking.account_id,
        payment_account="6222020000001234",
        payment_reference=f"pay-{booking.id}",
        now=platform.clock.now(),
        ctx=RequestContext(actor="patient", channel_id=booking.channel_id),
        protector=platform.protector,
    )
    db.commit()
    return booking


# --- hospitals -------------------------------------------------------------------------


def test_a_new_hospital_gets_a_key_of_which_only_the_hash_is_stored(db: Session) -> None:
    hospital, key = create_hospital_with_key(db, code="FJ01")

    assert key.startswith("hk_")
    assert hospital.api_key_hash == hash_api_key(key)
    assert hospitals_repo.by_key_hash(db, hash_api_key(key)) is hospital


def test_rotating_a_hospital_key_stops_the_old_one(db: Session) -> None:
    hospital, old = create_hospital_with_key(db)

    new = hospitals.rotate_hospital_key(db, hospital=hospital)

    assert new != old
    assert hospitals_repo.by_key_hash(db, hash_api_key(old)) is None
    assert hospitals_repo.by_key_hash(db, hash_api_key(new)) is hospital


def test_a_hospital_code_is_taken_once(db: Session) -> None:
    create_hospital(db, code="FJ01")

    with pytest.raises(HospitalExists):
        create_hospital(db, code="FJ01")


@pytest.mark.parametrize(
    "overrides",
    [
        {"timezone": "Mars/Olympus"},
        {"days_ahead": 61},
        {"booking_close_minutes": -1},
        {"push_time": time(1), "release_time": time(0, 30)},
        {"code": "has space"},
        {"name": " "},
    ],
)
def test_an_invalid_hospital_is_refused(db: Session, overrides: dict[str, object]) -> None:
    with pytest.raises(InvalidHospital):
        create_hospital(db, **overrides)


def test_doctors_are_listed_by_department_and_title(db: Session) -> None:
    hospital = create_hospital(db)
    gyn = create_department(db, hospital=hospital, code="GYN")
    ent = create_department(db, hospital=hospital, code="ENT")
    create_doctor(db, hospital=hospital, department=gyn, code="A", title="chief")
    create_doctor(db, hospital=hospital, department=gyn, code="B", title="resident")
    create_doctor(db, hospital=hospital, department=ent, code="C", title="chief")

    chiefs = hospitals.list_doctors(db, hospital=hospital, title="chief")  # type: ignore[arg-type]
    in_gyn = hospitals.list_doctors(db, hospital=hospital, department_code="GYN")

    assert [(d.code, d.department) for d in chiefs] == [("A", "GYN"), ("C", "ENT")]
    assert [d.code for d in in_gyn] == ["A", "B"]
    assert [d.code for d in hospitals.list_departments(db, hospital=hospital)] == ["ENT", "GYN"]


def test_changing_the_release_policy_moves_unreleased_sessions_only(
    db: Session, supply: Supply, clock: ManualClock
) -> None:
    now = clock.now()
    _push(db, supply, now, supply.spec(), supply.spec(his_session_id="S2", date=UNRELEASED_DAY))
    released_at = _session(db, supply).release_at

    count = release_change.update_release_policy(
        db, hospital=supply.hospital, now=now, days_ahead=3, booking_close_minutes=60
    )
    db.commit()

    assert count == 2
    released, unreleased = _session(db, supply), _session(db, supply, "S2")
    assert released.release_at == released_at  # what was seen cannot be unseen
    assert released.closes_at == released.starts_at - timedelta(minutes=60)
    assert unreleased.release_at == datetime(2026, 12, 1, 16, 30, tzinfo=now.tzinfo)
    assert unreleased.closes_at == unreleased.starts_at - timedelta(minutes=60)


# --- import ----------------------------------------------------------------------------


def test_a_pushed_session_gets_numbered_slots_and_a_pushed_ledger_row_each(
    db: Session, supply: Supply, clock: ManualClock
) -> None:
    report = _push(db, supply, clock.now(), supply.spec(capacity=4, start=time(8), end=time(10)))

    assert (report.created, report.sessions[0].outcome) == (1, Outcome.CREATED)
    session = _session(db, supply)
    assert session.release_at == datetime(2026, 11, 17, 16, 30, tzinfo=clock.now().tzinfo)
    assert session.capacity == 4
    slots = _slots(db, session)
    assert [s.number for s in slots] == [1, 2, 3, 4]
    assert all(s.state == SlotState.OPEN for s in slots)
    assert [s.ends_at - s.starts_at for s in slots] == [timedelta(minutes=30)] * 4
    assert slots[0].starts_at == session.starts_at and slots[-1].ends_at == session.ends_at
    events = list(db.scalars(select(SlotEvent).order_by(SlotEvent.id)))
    assert [e.kind for e in events] == [EventKind.PUSHED] * 4
    assert {e.actor for e in events} == {f"hospital:{supply.hospital.code}"}
    assert events[0].data["release_at"] == session.release_at.isoformat()


def test_reimporting_the_same_document_changes_nothing_and_writes_no_ledger_rows(
    db: Session, supply: Supply, clock: ManualClock
) -> None:
    specs = [supply.spec(), supply.spec(his_session_id="S2", date=UNRELEASED_DAY)]
    _push(db, supply, clock.now(), *specs)
    events = _events(db)

    clock.advance(timedelta(hours=1))
    report = _push(db, supply, clock.now(), *specs)

    assert (report.created, report.updated, report.unchanged) == (0, 0, 2)
    assert _events(db) == events
    assert db.scalar(select(func.count()).select_from(Slot)) == 20


def test_raising_capacity_adds_slots_with_new_numbers(
    db: Session, supply: Supply, clock: ManualClock
) -> None:
    _push(db, supply, clock.now(), supply.spec(capacity=4))

    report = _push(db, supply, clock.now(), supply.spec(capacity=6))

    assert report.sessions[0].outcome == Outcome.UPDATED
    session = _session(db, supply)
    assert session.capacity == 6
    assert [s.number for s in _slots(db, session)] == [1, 2, 3, 4, 5, 6]
    assert _events(db, EventKind.PUSHED) == 6


def test_lowering_capacity_withdraws_free_slots_highest_numbers_first(
    db: Session, supply: Supply, clock: ManualClock
) -> None:
    _push(db, supply, clock.now(), supply.spec(capacity=5))

    _push(db, supply, clock.now(), supply.spec(capacity=3))

    session = _session(db, supply)
    assert session.capacity == 3
    assert [s.state for s in _slots(db, session)] == [SlotState.OPEN] * 3 + [
        SlotState.WITHDRAWN
    ] * 2
    assert _events(db, EventKind.WITHDRAWN) == 2


def test_lowering_capacity_never_touches_held_or_booked_slots(
    db: Session, supply: Supply, clock: ManualClock, platform: Platform
) -> None:
    _push(db, supply, clock.now(), supply.spec(capacity=4))
    slots = _slots(db, _session(db, supply))
    held = _hold(db, platform, slots[3])
    booked = _book(db, platform, slots[2])

    report = _push(db, supply, clock.now(), supply.spec(capacity=1))

    outcome = report.sessions[0]
    assert (outcome.outcome, outcome.capacity) == (Outcome.UPDATED, 2)
    assert outcome.reason is not None and outcome.reason.startswith("capacity_partly_lowered")
    states = [s.state for s in _slots(db, _session(db, supply))]
    assert states == [SlotState.WITHDRAWN, SlotState.WITHDRAWN, SlotState.BOOKED, SlotState.HELD]
    db.expire_all()
    assert db.get(Booking, held.id).status == BookingStatus.HELD  # type: ignore[union-attr]
    assert db.get(Booking, booked.id).status == BookingStatus.BOOKED  # type: ignore[union-attr]


def test_a_partly_lowered_capacity_is_not_retried_into_a_ledger_row(
    db: Session, supply: Supply, clock: ManualClock, platform: Platform
) -> None:
    _push(db, supply, clock.now(), supply.spec(capacity=1))
    _hold(db, platform, _slots(db, _session(db, supply))[0])
    _push(db, supply, clock.now(), supply.spec(capacity=0))
    events = _events(db)

    report = _push(db, supply, clock.now(), supply.spec(capacity=0))

    assert report.sessions[0].outcome == Outcome.UNCHANGED
    assert _events(db) == events


def test_moving_a_session_with_a_booking_is_rejected(
    db: Session, supply: Supply, clock: ManualClock, platform: Platform
) -> None:
    _push(db, supply, clock.now(), supply.spec())
    _book(db, platform, _slots(db, _session(db, supply))[0])

    report = _push(db, supply, clock.now(), supply.spec(start=time(9), capacity=12))

    outcome = report.sessions[0]
    assert outcome.outcome == Outcome.REJECTED
    assert outcome.reason == "has_bookings: withdraw it and push a new session"
    session = _session(db, supply)
    assert (session.local_start, session.capacity) == (time(8), 10)


def test_moving_a_session_without_bookings_recomputes_its_times_and_windows(
    db: Session, supply: Supply, clock: ManualClock
) -> None:
    _push(db, supply, clock.now(), supply.spec(capacity=2, date=UNRELEASED_DAY))
    other = create_doctor(db, hospital=supply.hospital, department=supply.department, code="DR2")
    db.commit()

    moved = supply.spec(
        capacity=2, date=UNRELEASED_DAY + timedelta(days=1), start=time(14), end=time(16)
    )
    moved = SessionSpec(**{**moved.__dict__, "doctor": other.code})
    report = _push(db, supply, clock.now(), moved)

    assert report.sessions[0].outcome == Outcome.UPDATED
    session = _session(db, supply)
    tz = clock.now().tzinfo
    assert session.doctor_id == other.id
    assert session.starts_at == datetime(2026, 12, 6, 6, 0, tzinfo=tz)
    assert session.release_at == datetime(2026, 11, 28, 16, 30, tzinfo=tz)
    assert [(s.starts_at.hour, s.ends_at.hour) for s in _slots(db, session)] == [(6, 7), (7, 8)]


def test_a_fee_change_is_applied_without_touching_slots(
    db: Session, supply: Supply, clock: ManualClock
) -> None:
    _push(db, supply, clock.now(), supply.spec())
    events = _events(db)

    report = _push(db, supply, clock.now(), supply.spec(fee="80.00"))

    assert report.sessions[0].outcome == Outcome.UPDATED
    assert _session(db, supply).fee == Decimal("80.00")
    assert _events(db) == events


def test_an_unknown_department_or_doctor_rejects_only_that_session(
    db: Session, supply: Supply, clock: ManualClock
) -> None:
    good = supply.spec(his_session_id="OK")
    no_department = SessionSpec(**{**supply.spec(his_session_id="X1").__dict__, "department": "?"})
    no_doctor = SessionSpec(**{**supply.spec(his_session_id="X2").__dict__, "doctor": "NOPE"})

    report = _push(db, supply, clock.now(), good, no_department, no_doctor)

    assert [o.outcome for o in report.sessions] == [
        Outcome.CREATED,
        Outcome.REJECTED,
        Outcome.REJECTED,
    ]
    assert report.sessions[1].reason is not None
    assert report.sessions[1].reason.startswith("unknown_department")
    assert report.sessions[2].reason is not None
    assert report.sessions[2].reason.startswith("unknown_doctor")
    assert (report.created, report.rejected) == (1, 2)


def test_departments_and_doctors_in_a_document_are_upserted_before_its_sessions(
    db: Session, clock: ManualClock
) -> None:
    hospital = create_hospital(db)
    doc = ScheduleDocument(
        hospital=hospital.code,
        departments=(
            DepartmentIn(code="OB", name="产科", specialty="obstetrics", sex_restriction="female"),  # type: ignore[arg-type]
        ),
        doctors=(DoctorIn(code="D9", name="李医生", title="attending", department="OB"),),  # type: ignore[arg-type]
        sessions=(
            SessionSpec(
                his_session_id="S1",
                department="OB",
                doctor="D9",
                session_date=RELEASED_DAY,
                period=Period.MORNING,
                local_start=time(8),
                local_end=time(12),
                fee=Decimal(30),
                capacity=3,
            ),
        ),
    )
    ctx = RequestContext(actor="hospital")

    report = schedules.import_schedule(db, doc=doc, now=clock.now(), ctx=ctx)

    assert (report.departments.created, report.doctors.created, report.created) == (1, 1, 1)
    # A later push that leaves sex_restriction out does not lift it.
    renamed = DepartmentIn(code="OB", name="产科门诊", specialty="obstetrics")
    again = schedules.import_schedule(
        db,
        doc=ScheduleDocument(hospital=hospital.code, departments=(renamed,)),
        now=clock.now(),
        ctx=ctx,
    )
    department = hospitals_repo.department_by_code(db, hospital_id=hospital.id, code="OB")
    assert again.departments.updated == 1
    assert department is not None
    assert (department.name, department.sex_restriction) == ("产科门诊", SexRestriction.FEMALE)


def test_a_doctor_in_an_unknown_department_makes_the_document_invalid(
    db: Session, supply: Supply, clock: ManualClock
) -> None:
    doc = ScheduleDocument(
        hospital=supply.hospital.code,
        doctors=(DoctorIn(code="D9", name="李医生", title="attending", department="NOPE"),),  # type: ignore[arg-type]
    )

    with pytest.raises(ScheduleInvalid) as caught:
        schedules.import_schedule(db, doc=doc, now=clock.now(), ctx=RequestContext(actor="t"))

    assert caught.value.problems[0]["location"] == "doctors[0].department"


def test_a_document_for_another_hospital_is_refused(
    db: Session, supply: Supply, clock: ManualClock
) -> None:
    other = create_hospital(db)
    doc = ScheduleDocument(hospital=other.code)

    with pytest.raises(WrongHospital):
        schedules.import_schedule(
            db, doc=doc, now=clock.now(), ctx=RequestContext(actor="t"), as_hospital=supply.hospital
        )


def test_two_concurrent_pushes_of_a_new_session_create_it_once(
    platform: Platform, supply: Supply, clock: ManualClock, db: Session
) -> None:
    barrier = threading.Barrier(2, timeout=10)
    outcomes: list[Outcome] = []
    errors: list[BaseException] = []

    def push_once() -> None:
        try:
            with unit_of_work(platform.sessions) as session:
                barrier.wait()
                report = push(
                    session, hospital=supply.hospital, sessions=[supply.spec()], now=clock.now()
                )
                outcomes.append(report.sessions[0].outcome)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=push_once) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    assert sorted(outcomes) == [Outcome.CREATED, Outcome.UNCHANGED]
    assert _events(db, EventKind.PUSHED) == 10


# --- reserved shares -------------------------------------------------------------------


def test_reserved_shares_are_disjoint_and_return_to_the_pool_before_the_session(
    db: Session, supply: Supply, clock: ManualClock
) -> None:
    phone, _ = create_channel(db, reserved_share=Decimal("0.2"), reserve_return_minutes=120)
    window, _ = create_channel(db, reserved_share=Decimal("0.1"), reserve_return_minutes=60)
    create_channel(db)  # no share
    db.commit()

    _push(db, supply, clock.now(), supply.spec(capacity=20))

    session = _session(db, supply)
    slots = _slots(db, session)
    for_phone = [s for s in slots if s.reserved_channel_id == phone.id]
    for_window = [s for s in slots if s.reserved_channel_id == window.id]
    assert len(for_phone) == 4 and len(for_window) == 2
    assert not {s.number for s in for_phone} & {s.number for s in for_window}
    assert {s.reserved_until for s in for_phone} == {session.starts_at - timedelta(minutes=120)}
    assert {s.reserved_until for s in for_window} == {session.starts_at - timedelta(minutes=60)}
    assert sum(1 for s in slots if s.reserved_channel_id is None) == 14


def test_an_inactive_channel_reserves_nothing(
    db: Session, supply: Supply, clock: ManualClock
) -> None:
    channel, _ = create_channel(db, reserved_share=Decimal("0.5"))
    channel.active = False
    db.commit()

    _push(db, supply, clock.now(), supply.spec(capacity=10))

    assert all(s.reserved_channel_id is None for s in _slots(db, _session(db, supply)))


# --- withdrawal ------------------------------------------------------------------------


def test_a_withdrawn_session_withdraws_its_bookings_and_tells_channel_and_hospital(
    db: Session, supply: Supply, clock: ManualClock, platform: Platform
) -> None:
    _push(db, supply, clock.now(), supply.spec(capacity=3))
    slots = _slots(db, _session(db, supply))
    booked = _book(db, platform, slots[0])
    held = _hold(db, platform, slots[1])

    report = _push(db, supply, clock.now(), supply.spec(capacity=3, status=SessionStatus.WITHDRAWN))

    assert (report.withdrawn, report.sessions[0].capacity) == (1, 0)
    session = _session(db, supply)
    assert session.status == SessionStatus.WITHDRAWN
    assert {s.state for s in _slots(db, session)} == {SlotState.WITHDRAWN}
    db.expire_all()
    for booking in (booked, held):
        assert db.get(Booking, booking.id).status == BookingStatus.WITHDRAWN  # type: ignore[union-attr]
    assert _events(db, EventKind.WITHDRAWN) == 3
    notes = list(db.scalars(select(Notification).where(Notification.kind == "booking_withdrawn")))
    to_channels = [n for n in notes if n.audience == Audience.CHANNEL]
    to_hospital = [n for n in notes if n.audience == Audience.HOSPITAL]
    assert {n.booking_id for n in to_channels} == {booked.id, held.id}
    assert {n.channel_id for n in to_channels} == {booked.channel_id, held.channel_id}
    assert {n.account_id for n in to_channels} == {booked.account_id, held.account_id}
    assert "医院已停诊" in to_channels[0].payload["message_zh"]
    assert to_channels[0].payload["session_id"] == "S1"
    assert {n.hospital_id for n in to_hospital} == {supply.hospital.id}
    assert len(to_hospital) == 2


def test_a_withdrawn_session_cannot_be_reactivated(
    db: Session, supply: Supply, clock: ManualClock
) -> None:
    _push(db, supply, clock.now(), supply.spec())
    _push(db, supply, clock.now(), supply.spec(status=SessionStatus.WITHDRAWN))
    events = _events(db)

    report = _push(db, supply, clock.now(), supply.spec())
    repeat = _push(db, supply, clock.now(), supply.spec(status=SessionStatus.WITHDRAWN))

    assert report.sessions[0].outcome == Outcome.REJECTED
    assert report.sessions[0].reason is not None
    assert report.sessions[0].reason.startswith("session_withdrawn")
    assert repeat.sessions[0].outcome == Outcome.UNCHANGED
    assert _session(db, supply).status == SessionStatus.WITHDRAWN
    assert _events(db) == events


def test_a_session_first_pushed_as_withdrawn_is_kept_without_slots(
    db: Session, supply: Supply, clock: ManualClock
) -> None:
    report = _push(db, supply, clock.now(), supply.spec(status=SessionStatus.WITHDRAWN))
    again = _push(db, supply, clock.now(), supply.spec())

    assert report.sessions[0].outcome == Outcome.WITHDRAWN
    assert _slots(db, _session(db, supply)) == []
    assert again.sessions[0].outcome == Outcome.REJECTED


def test_withdraw_session_reports_what_it_withdrew_and_is_idempotent(
    db: Session, supply: Supply, clock: ManualClock, platform: Platform
) -> None:
    _push(db, supply, clock.now(), supply.spec(capacity=2))
    _book(db, platform, _slots(db, _session(db, supply))[0])
    ctx = RequestContext(actor="hospital")

    first = withdrawal.withdraw_session(
        db, hospital=supply.hospital, his_session_id="S1", now=clock.now(), ctx=ctx, reason="ill"
    )
    db.commit()
    second = withdrawal.withdraw_session(
        db, hospital=supply.hospital, his_session_id="S1", now=clock.now(), ctx=ctx, reason="ill"
    )

    assert (first.slots_withdrawn, first.bookings_withdrawn, first.already_withdrawn) == (
        2,
        1,
        False,
    )
    assert (second.slots_withdrawn, second.already_withdrawn) == (0, True)
    reasons = db.scalars(select(SlotEvent.data).where(SlotEvent.kind == EventKind.WITHDRAWN))
    assert {r["reason"] for r in reasons} == {"ill"}


def test_withdrawing_an_unknown_session_is_not_found(db: Session, supply: Supply) -> None:
    with pytest.raises(SessionNotFound):
        withdrawal.withdraw_session(
            db,
            hospital=supply.hospital,
            his_session_id="nope",
            now=datetime.now().astimezone(),
            ctx=RequestContext(actor="hospital"),
            reason="x",
        )


def test_a_hospital_sees_its_own_unreleased_sessions_with_slot_counts(
    db: Session, supply: Supply, clock: ManualClock, platform: Platform
) -> None:
    _push(db, supply, clock.now(), supply.spec(capacity=3))
    _push(db, supply, clock.now(), supply.spec(his_session_id="S2", date=UNRELEASED_DAY))
    _hold(db, platform, _slots(db, _session(db, supply))[0])

    today = views.list_sessions(db, hospital=supply.hospital, day=RELEASED_DAY, now=clock.now())
    later = views.list_sessions(db, hospital=supply.hospital, day=UNRELEASED_DAY, now=clock.now())

    assert [(v.session_id, v.released, v.slots["held"], v.slots["open"]) for v in today] == [
        ("S1", True, 1, 2)
    ]
    assert [(v.session_id, v.released) for v in later] == [("S2", False)]
    assert later[0].release_at.utcoffset() == timedelta(hours=8)
