"""A hand-checked release day for the Today overview, the draws and the slot trace.

The clock is ``START`` (2026-11-22 08:00 in Shanghai) when :func:`release_day` returns.
Everything is made through the services (push, intents, the worker's draw, holds,
confirmations, a cancellation), so the rows are what production stores:

hospital *A* (world's hospital, releases at 00:30):
- 00:30 today released 2026-11-29: a draw-mode session (3 slots) and two first-come ones
  (4 slots each) — 3 sessions;
- the draw of that day ran at 08:00 with 4 intents for 3 slots: 3 winners, 1 loser;
- pushed for tomorrow's release (2026-11-30): one draw-mode session (its draw open, no
  intent) and one first-come session — 2 sessions;
- 2026-11-25 (released a week ago): a first-come session of 1 slot booked (sold out), a
  session of another department with its 1 slot held (sold out), and a session of 2 slots
  whose one booking was cancelled (one slot open, one cooling: not sold out).
hospital *B* (releases at 09:00, later than now): nothing released today; its next
release is today at 09:00, for 2026-11-29, with 1 session pushed.

The platform: 2 cases waiting, 1 in review, 1 awaiting calls, 1 confirmed (closed);
2 calls pending, 1 taken, 1 done; yesterday's (2026-11-21) batch ran with 3 alerts,
1 ring, and opened 1 case (another alert joined a case opened the day before).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import select

from conftest import START
from factories.demand import create_patient
from factories.report_data import call, create_alert, create_case, create_run, local, move
from factories.staff import create_staff
from factories.supply import create_department, create_doctor, create_hospital, import_session
from factories.world import RELEASED_DAY, UNRELEASED_DAY, World
from fairslot.allocation import service as allocation
from fairslot.allocation.models import Draw, Intent
from fairslot.allocation.states import AllocationMode
from fairslot.allocation.worker import run_due_draws
from fairslot.bookings import service as bookings
from fairslot.bookings.models import Booking
from fairslot.cases.states import CaseEventKind, CaseStatus
from fairslot.channels.models import ChannelKind
from fairslot.followup.states import CallOutcome, CallReason, CallStatus
from fairslot.hospitals.models import Department, Hospital
from fairslot.patients.models import Account, Patient
from fairslot.schedules.models import ClinicSession
from fairslot.staff.roles import Role

TODAY = dt.date(2026, 11, 22)
YESTERDAY = dt.date(2026, 11, 21)
RELEASED_TODAY = dt.date(2026, 11, 29)
IN_WINDOW = local(TODAY, "00:10")  # the draw's intent window: 00:00-00:30


@dataclass
class ReleaseDay:
    world: World
    draw_department: Department
    other_department: Department
    late_hospital: Hospital
    draw: Draw
    pending_draw: Draw
    draw_session: ClinicSession
    intents: list[Intent]
    winners: list[Booking] = field(default_factory=list)
    sold_out_booking: Booking | None = None
    held_booking: Booking | None = None
    cancelled_booking: Booking | None = None


def _intent(world: World, account: Account, patient: Patient, session: ClinicSession) -> Intent:
    intent, _ = allocation.register_intent(
        world.db,
        account_id=account.id,
        patient_id=patient.id,
        target=allocation.IntentTarget(session_id=session.id),
        payment_account=f"62220200{patient.id:08d}",  # each their own card
        payment_reference=f"pre-{patient.id}",
        now=world.now(),
        ctx=world.ctx(account, device_id=f"dev-{patient.id}", wifi_id="ap-1"),
        policy=world.policy,
        protector=world.platform.protector,
    )
    world.db.commit()
    return intent


def book(world: World, session: ClinicSession, *, pay: bool = True) -> Booking:
    """A new patient holds the session's first free slot (and pays, unless ``pay`` is off)."""
    account, patient = world.patient()
    slot = next(s for s in world.slots(session) if s.state.value == "open")
    ctx = world.ctx(account, device_id=f"phone-{patient.id}", ip="198.51.100.7")
    booking = bookings.hold(
        world.db,
        account_id=account.id,
        patient_id=patient.id,
        slot_id=slot.id,
        now=world.now(),
        ctx=ctx,
        policy=world.policy,
        rng=world.platform.rng,
    )
    if pay:
        booking = bookings.confirm(
            world.db,
            booking_id=booking.id,
            account_id=account.id,
            payment_account="6222020000009876",
            payment_reference=f"pay-{booking.id[:8]}",
            now=world.now(),
            ctx=ctx,
            protector=world.platform.protector,
        )
    world.db.commit()
    return booking


def cancel(world: World, booking: Booking) -> None:
    bookings.cancel(
        world.db,
        booking_id=booking.id,
        account_id=booking.account_id,
        now=world.now(),
        ctx=world.ctx(),
        channel_kind=ChannelKind.WECHAT,
        policy=world.policy,
        rng=world.platform.rng,
    )
    world.db.commit()


def release_day(world: World) -> ReleaseDay:
    db, platform = world.db, world.platform
    platform.clock.set(IN_WINDOW)  # type: ignore[attr-defined]
    draw_department = world.department_(allocation_mode=AllocationMode.DRAW)
    other_department = world.department_()
    draw_session = world.session(day=RELEASED_TODAY, capacity=3, department=draw_department)
    for _ in range(2):
        world.session(day=RELEASED_TODAY, capacity=4)
    people = [world.patient() for _ in range(4)]
    intents = [_intent(world, account, patient, draw_session) for account, patient in people]

    platform.clock.set(START)  # type: ignore[attr-defined]
    run_due_draws(
        db,
        now=world.now(),
        policy=world.policy,
        rng=platform.rng,
        protector=platform.protector,
        desk=platform.screening_desk,
    )
    db.commit()
    tomorrow_draw_session = world.session(
        day=UNRELEASED_DAY, capacity=2, department=draw_department
    )
    world.session(day=UNRELEASED_DAY, capacity=2)
    pending = allocation.ensure_draw(
        db,
        department_id=draw_department.id,
        session_date=tomorrow_draw_session.session_date,
        protector=platform.protector,
    )
    assert pending is not None
    db.commit()

    day = ReleaseDay(
        world=world,
        draw_department=draw_department,
        other_department=other_department,
        late_hospital=_late_hospital(world),
        draw=allocation.find_draw(
            db, department_id=draw_department.id, session_date=RELEASED_TODAY
        ),
        pending_draw=pending,
        draw_session=draw_session,
        intents=intents,
    )
    day.winners = list(db.scalars(select(Booking).where(Booking.session_id == draw_session.id)))
    day.sold_out_booking = book(world, world.session(day=RELEASED_DAY, capacity=1))
    day.held_booking = book(
        world, world.session(day=RELEASED_DAY, capacity=1, department=other_department), pay=False
    )
    day.cancelled_booking = book(world, world.session(day=RELEASED_DAY, capacity=2))
    cancel(world, day.cancelled_booking)
    _queues_and_batch(world)
    db.commit()
    return day


def _late_hospital(world: World) -> Hospital:
    db = world.db
    hospital = create_hospital(db, release_time=dt.time(9, 0))
    department = create_department(db, hospital=hospital)
    doctor = create_doctor(db, hospital=hospital, department=department)
    import_session(
        db,
        hospital=hospital,
        department=department,
        doctor=doctor,
        date=RELEASED_TODAY,
        now=world.now(),
    )
    db.commit()
    return hospital


def _queues_and_batch(world: World) -> None:
    db, now = world.db, world.now()
    reviewer = create_staff(db, username="overview_reviewer", roles={Role.REVIEWER}, now=now)
    opened = local(YESTERDAY, "00:40", plus_days=1)
    cases = [
        create_case(db, kind="phone", key=f"k{n}", label=f"phone {n}", opened_at=opened, score=1)
        for n in range(5)
    ]
    move(db, cases[2], CaseEventKind.TAKEN, at=now, by=reviewer)
    move(db, cases[3], CaseEventKind.TAKEN, at=now, by=reviewer)
    move(db, cases[3], CaseEventKind.CALL_REQUESTED, at=now, by=reviewer)
    cases[4].status, cases[4].closed_at = CaseStatus.CONFIRMED, now
    # Yesterday's batch: two alerts filed under a case it opened, one under a case opened
    # the day before (which that day's report counts, not yesterday's).
    run = create_run(db, day=YESTERDAY, started_at=opened - dt.timedelta(minutes=5))
    run.rings_flagged = 1
    for rule in ("same_payment_department", "ring"):
        create_alert(
            db,
            day=YESTERDAY,
            rule=rule,
            kind="phone",
            key="k0",
            label="p",
            case=cases[0],
            at=opened,
        )
    create_alert(
        db,
        day=YESTERDAY - dt.timedelta(days=1),
        rule="cancellations",
        kind="phone",
        key="k1",
        label="p",
        case=cases[1],
        at=opened - dt.timedelta(days=1),
    )
    create_alert(
        db,
        day=YESTERDAY,
        rule="cancellations",
        kind="phone",
        key="k1",
        label="p",
        case=cases[1],
        at=opened,
    )
    patient = create_patient(db, world.platform)
    for status in (CallStatus.PENDING, CallStatus.PENDING, CallStatus.TAKEN, CallStatus.DONE):
        task = call(
            db,
            patient=patient,
            reason=CallReason.SAMPLE,
            outcome=CallOutcome.GENUINE if status is CallStatus.DONE else None,
            created_at=now,
            done_at=now if status is CallStatus.DONE else None,
        )
        task.status = status
    db.flush()
