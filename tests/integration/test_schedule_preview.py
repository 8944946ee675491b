"""A push's preview on SQLite and PostgreSQL: it writes nothing, and it says for every
session exactly what the import then does (the same ``changes.decide``) — new sessions,
capacity up and down (also only partly), moves, withdrawals with their bookings, unknown
codes, a withdrawn session pushed again, departments and doctors the push creates."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from factories.demand import create_account, create_channel, create_patient
from factories.supply import create_department, create_doctor, create_hospital, push, session_spec
from fairslot.bookings import service as bookings
from fairslot.bookings.policy import booking_policy
from fairslot.bootstrap import Platform
from fairslot.context import RequestContext
from fairslot.hospitals.models import DoctorTitle
from fairslot.hospitals.schemas import DepartmentIn, DoctorIn
from fairslot.ledger.models import SlotEvent
from fairslot.schedules import preview, withdrawal
from fairslot.schedules import service as schedules
from fairslot.schedules.formats import ScheduleDocument, SessionSpec
from fairslot.schedules.models import ClinicSession, Slot
from fairslot.schedules.schemas import Outcome
from fairslot.schedules.states import SessionStatus

RELEASED_DAY = date(2026, 11, 25)  # released on 11-18; the clock starts on 11-22
UNRELEASED_DAY = date(2026, 12, 5)  # released on 11-28


def _counts(db: Session) -> tuple[int, int, int]:
    db.commit()
    return (
        int(db.scalar(select(func.count()).select_from(ClinicSession)) or 0),
        int(db.scalar(select(func.count()).select_from(Slot)) or 0),
        int(db.scalar(select(func.count()).select_from(SlotEvent)) or 0),
    )


def _take(db: Session, platform: Platform, session: ClinicSession, *, pay: bool) -> None:
    """Hold (and pay for) the session's lowest free slot."""
    slot = db.scalars(
        select(Slot)
        .where(Slot.session_id == session.id, Slot.state == "open")
        .order_by(Slot.number)
        .limit(1)
    ).one()
    channel = create_channel(db)[0]
    account = create_account(db, platform, channel_id=channel.id)
    patient = create_patient(db, platform, account=account)
    ctx = RequestContext(actor="patient", channel_id=channel.id, account_id=account.id)
    booking = bookings.hold(
        db,
        account_id=account.id,
        patient_id=patient.id,
        slot_id=slot.id,
        now=platform.clock.now(),
        ctx=ctx,
        policy=booking_policy(platform.settings),
        rng=platform.rng,
    )
    if pay:
        bookings.confirm(
            db,
            booking_id=booking.id,
            account_id=account.id,
            payment_account="6222020000001234",
            payment_reference=f"pay-{booking.id}",
            now=platform.clock.now(),
            ctx=ctx,
            protector=platform.protector,
        )
    db.commit()


def _session(db: Session, his_id: str) -> ClinicSession:
    return db.scalars(select(ClinicSession).where(ClinicSession.his_session_id == his_id)).one()


def test_the_preview_writes_nothing_and_says_what_the_import_then_does(
    db: Session, platform: Platform
) -> None:
    now: datetime = platform.clock.now()
    hospital = create_hospital(db)
    gyn = create_department(db, hospital=hospital, code="GYN")
    doctor = create_doctor(db, hospital=hospital, department=gyn, code="DR1")
    other = create_doctor(db, hospital=hospital, department=gyn, code="DR2")
    db.commit()

    def spec(his_id: str, **overrides: Any) -> SessionSpec:
        values: dict[str, Any] = {"his_session_id": his_id, "date": RELEASED_DAY}
        values.update(overrides)
        values.setdefault("doctor", doctor)
        return session_spec(department=gyn, **values)

    push(
        db,
        hospital=hospital,
        now=now,
        sessions=[
            spec("UP", capacity=4),
            spec("DOWN", capacity=6),
            spec("PARTLY", capacity=3),
            spec("MOVE-BOOKED", capacity=3),
            spec("MOVE-FREE", capacity=3),
            spec("ILL", capacity=4),
            spec("GONE", capacity=2),
            spec("SAME", capacity=2),
        ],
    )
    db.commit()
    for his_id, pay in (("PARTLY", True), ("PARTLY", False), ("MOVE-BOOKED", True)):
        _take(db, platform, _session(db, his_id), pay=pay)
    for pay in (True, False):
        _take(db, platform, _session(db, "ILL"), pay=pay)
    withdrawal.withdraw_session(
        db,
        hospital=hospital,
        his_session_id="GONE",
        now=now,
        ctx=RequestContext(actor="test"),
        reason="x",
    )
    db.commit()

    doc = ScheduleDocument(
        hospital=hospital.code,
        departments=(DepartmentIn(code="NEW", name="新科室", specialty="internal"),),
        doctors=(
            DoctorIn(code="DR9", name="新医生", title=DoctorTitle.ATTENDING, department="NEW"),
        ),
        sessions=(
            spec("FRESH", date=UNRELEASED_DAY, capacity=5),
            spec("UP", capacity=7),
            spec("DOWN", capacity=2),
            spec("PARTLY", capacity=0),
            spec("MOVE-BOOKED", capacity=3, doctor=other),
            spec("MOVE-FREE", capacity=3, doctor=other, fee=Decimal("80.00")),
            spec("ILL", capacity=4, status=SessionStatus.WITHDRAWN),
            spec("GONE", capacity=2),
            spec("SAME", capacity=2),
            SessionSpec(**{**spec("NOBODY").__dict__, "doctor": "DR404"}),
            SessionSpec(
                **{
                    **spec("IN-NEW", date=UNRELEASED_DAY, capacity=3).__dict__,
                    "department": "NEW",
                    "doctor": "DR9",
                }
            ),
        ),
    )
    before = _counts(db)
    seen = preview.preview_import(db, doc=doc, as_hospital=hospital)
    assert _counts(db) == before  # nothing written

    by_id = {s.session_id: s for s in seen.sessions}
    assert by_id["FRESH"].outcome == Outcome.CREATED and by_id["FRESH"].slots_added == 5
    assert (by_id["UP"].capacity_before, by_id["UP"].capacity_after) == (4, 7)
    assert by_id["UP"].slots_added == 3
    assert by_id["DOWN"].slots_withdrawn == 4 and by_id["DOWN"].capacity_after == 2
    assert by_id["PARTLY"].capacity_after == 2 and by_id["PARTLY"].slots_withdrawn == 1
    assert (by_id["PARTLY"].reason or "").startswith("capacity_partly_lowered")
    assert by_id["MOVE-BOOKED"].outcome == Outcome.REJECTED
    assert (by_id["MOVE-BOOKED"].reason or "").startswith("has_bookings")
    assert by_id["MOVE-FREE"].moved and by_id["MOVE-FREE"].fee_changed
    assert by_id["ILL"].outcome == Outcome.WITHDRAWN
    assert (by_id["ILL"].slots_withdrawn, by_id["ILL"].bookings_withdrawn) == (4, 2)
    assert (by_id["GONE"].reason or "").startswith("session_withdrawn")
    assert by_id["SAME"].outcome == Outcome.UNCHANGED
    assert (by_id["NOBODY"].reason or "").startswith("unknown_doctor")
    assert by_id["IN-NEW"].outcome == Outcome.CREATED
    assert (seen.departments.created, seen.doctors.created) == (1, 1)
    assert seen.bookings_withdrawn == 2
    assert seen.slots_added == 5 + 3 + 3

    report = schedules.import_schedule(
        db, doc=doc, now=now, ctx=RequestContext(actor="test"), as_hospital=hospital
    )
    db.commit()
    assert [(s.session_id, s.outcome, s.reason) for s in report.sessions] == [
        (s.session_id, s.outcome, s.reason) for s in seen.sessions
    ]
    assert [s.capacity for s in report.sessions] == [s.capacity_after for s in seen.sessions]
    for name in ("created", "updated", "unchanged", "withdrawn", "rejected"):
        assert getattr(report, name) == getattr(seen, name)
    assert report.departments == seen.departments and report.doctors == seen.doctors

    again = preview.preview_import(db, doc=doc, as_hospital=hospital)
    changed = [s.session_id for s in again.sessions if s.outcome != Outcome.UNCHANGED]
    # Pushed twice, only what the import refused (or could not lower) is still asked for.
    assert sorted(changed) == ["GONE", "MOVE-BOOKED", "NOBODY"]


def test_a_session_moved_to_a_department_the_push_creates_counts_as_moved(
    db: Session, platform: Platform
) -> None:
    hospital = create_hospital(db)
    gyn = create_department(db, hospital=hospital, code="GYN")
    doctor = create_doctor(db, hospital=hospital, department=gyn, code="DR1")
    db.commit()
    first = session_spec(department=gyn, doctor=doctor, date=UNRELEASED_DAY, his_session_id="M1")
    push(db, hospital=hospital, sessions=[first], now=platform.clock.now())
    db.commit()
    moved = SessionSpec(**{**first.__dict__, "department": "NEW"})
    doc = ScheduleDocument(
        hospital=hospital.code,
        departments=(DepartmentIn(code="NEW", name="新科室", specialty="internal"),),
        sessions=(moved,),
    )
    (seen,) = preview.preview_import(db, doc=doc, as_hospital=hospital).sessions
    assert seen.outcome == Outcome.UPDATED and seen.moved
