"""Two hand-built days of bookings and request records for the quality metrics, built
through the real services (holds, payments, check-in, the blacklist) and the request
record writer the API uses (``audit/service.py::write``). Times are Shanghai wall clock.

Hospital H (the world's), channel C (the world's); hospital H2 and channel C2 for Dan.

Day 1, 2026-11-22 (the clock starts at 08:00):
  Alice  holds a slot of S1 (H, today 14:00–17:00) at 08:00:00, pays at 08:01:30  (90 s)
  Bob    is refused at 08:00 (hold by session, sold out: no slot named), holds a slot
         of S1 at 08:02, pays at 08:05                                          (300 s)
  Carol  holds a slot of S1 at 08:10 and never pays
  Dan    (C2) holds a slot of S4 (H2, 11-25) at 08:20, pays at 08:21             (60 s)
  At 17:30 Alice is checked in and Bob is marked no-show.
Day 2, 2026-11-23:
  Alice  lists her patients at 08:30 (active; no attempt, names no hospital)
  Eve    holds the only slot of S2 (H, 11-25) at 09:00, pays at 09:02           (120 s)
  Frank  holds the only slot of S3 (H, 11-25) at 10:00, pays at 10:00:30         (30 s)
  At 11:00 Eve's device is blacklisted.
Later: Eve is back on 11-28 (within 7 days), Frank on 12-13 (within 30 days only).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from factories.demand import create_account, create_channel, create_patient
from factories.supply import create_department, create_doctor, create_hospital, import_session
from factories.world import World, make_world
from fairslot.audit.service import PendingRecord, write
from fairslot.blacklist import service as blacklist
from fairslot.blacklist.models import Scope
from fairslot.bookings import attendance
from fairslot.bookings import service as bookings
from fairslot.bookings.models import Booking
from fairslot.bootstrap import Platform
from fairslot.channels.models import Channel
from fairslot.clock import ManualClock
from fairslot.context import RequestContext
from fairslot.hospitals.models import Hospital
from fairslot.patients.models import Account, Patient
from fairslot.schedules.models import ClinicSession
from fairslot.schedules.states import Period
from fairslot.staff.audit import cli_actor

ZONE = "Asia/Shanghai"
DAY1 = dt.date(2026, 11, 22)
DAY2 = dt.date(2026, 11, 23)
# When the report is read: every 7- and 30-day follow-up of the two days has ended.
READ_AT = dt.datetime(2027, 1, 10, tzinfo=dt.UTC)
EVE_DEVICE = "eve-phone-0001"


def local(day: dt.date, hh: int, mm: int = 0, ss: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hh, mm, ss, tzinfo=ZoneInfo(ZONE))


@dataclass
class Person:
    account: Account
    patient: Patient
    channel: Channel
    device: str


@dataclass
class MetricsPeriod:
    world: World
    h2: Hospital
    c2: Channel
    people: dict[str, Person] = field(default_factory=dict)
    bookings: dict[str, Booking] = field(default_factory=dict)

    @property
    def hospital(self) -> Hospital:
        return self.world.hospital

    @property
    def channel(self) -> Channel:
        return self.world.channel


def hand_built_period(db: Session, platform: Platform) -> MetricsPeriod:
    clock = platform.clock
    assert isinstance(clock, ManualClock)
    world = make_world(db, platform)
    h2 = create_hospital(db)
    c2, _ = create_channel(db)
    db.commit()
    period = MetricsPeriod(world=world, h2=h2, c2=c2)
    s1 = world.session(
        day=DAY1, period=Period.AFTERNOON, start=dt.time(14), end=dt.time(17), capacity=5
    )
    s2 = world.session(day=dt.date(2026, 11, 25), capacity=1)
    s3 = world.session(day=dt.date(2026, 11, 25), capacity=1, period=Period.AFTERNOON)
    s4 = _session_at(world, h2)
    for name in ("alice", "bob", "carol", "eve", "frank"):
        period.people[name] = _person(world, world.channel, name)
    period.people["dan"] = _person(world, c2, "dan")
    p = period.people

    clock.set(local(DAY1, 8))
    book(period, "alice", s1, slot=0, paid_after=dt.timedelta(seconds=90))
    clock.set(local(DAY1, 8))
    request(period, "bob", "hold", outcome="session_full")
    clock.set(local(DAY1, 8, 2))
    book(period, "bob", s1, slot=1, paid_after=dt.timedelta(minutes=3))
    clock.set(local(DAY1, 8, 10))
    book(period, "carol", s1, slot=2, paid_after=None)
    clock.set(local(DAY1, 8, 20))
    book(period, "dan", s4, slot=0, paid_after=dt.timedelta(minutes=1))

    clock.set(local(DAY1, 17, 30))
    hospital_ctx = RequestContext(actor=f"hospital:{world.hospital.code}")
    attendance.check_in(
        db,
        hospital_id=world.hospital.id,
        booking_id=period.bookings["alice"].id,
        now=clock.now(),
        ctx=hospital_ctx,
    )
    attendance.mark_no_show(
        db,
        hospital_id=world.hospital.id,
        booking_id=period.bookings["bob"].id,
        now=clock.now(),
        ctx=hospital_ctx,
    )
    db.commit()

    clock.set(local(DAY2, 8, 30))
    request(period, "alice", "list_patients")
    clock.set(local(DAY2, 9))
    book(period, "eve", s2, slot=0, paid_after=dt.timedelta(minutes=2))
    clock.set(local(DAY2, 10))
    book(period, "frank", s3, slot=0, paid_after=dt.timedelta(seconds=30))
    clock.set(local(DAY2, 11))
    blacklist.block(
        db,
        scope=Scope.DEVICE,
        value=p["eve"].device,
        reason="grab software on this device",
        actor=cli_actor("metrics-test"),
        now=clock.now(),
        protector=platform.protector,
    )
    db.commit()

    clock.set(local(dt.date(2026, 11, 28), 9))
    request(period, "eve", "list_patients")
    clock.set(local(dt.date(2026, 12, 13), 9))
    request(period, "frank", "list_patients")
    clock.set(READ_AT)
    return period


def book(
    period: MetricsPeriod,
    name: str,
    session: ClinicSession,
    *,
    slot: int,
    paid_after: dt.timedelta | None,
) -> Booking:
    """A hold (and, ``paid_after`` later, its payment) as the channel API makes them: the
    service call and the request record of each."""
    world, person = period.world, period.people[name]
    clock = world.platform.clock
    assert isinstance(clock, ManualClock)
    slot_id = world.slots(session)[slot].id
    ctx = _ctx(period, name)
    booking = bookings.hold(
        world.db,
        account_id=person.account.id,
        patient_id=person.patient.id,
        slot_id=slot_id,
        now=clock.now(),
        ctx=ctx,
        policy=world.policy,
        rng=world.platform.rng,
    )
    request(period, name, "hold", slot_id=slot_id, booking_id=booking.id)
    if paid_after is not None:
        clock.advance(paid_after)
        bookings.confirm(
            world.db,
            booking_id=booking.id,
            account_id=person.account.id,
            payment_account=f"6222{person.account.id:012d}",
            payment_reference=f"pay-{booking.id[:8]}",
            now=clock.now(),
            ctx=ctx,
            protector=world.platform.protector,
        )
        request(period, name, "confirm", booking_id=booking.id)
    period.bookings[name] = booking
    return booking


def request(
    period: MetricsPeriod,
    name: str,
    action: str,
    *,
    outcome: str = "ok",
    slot_id: str | None = None,
    booking_id: str | None = None,
) -> None:
    """The request record the API writes for ``name``'s request now (committed)."""
    world, person = period.world, period.people[name]
    write(
        world.db,
        pending=PendingRecord(
            action=action,
            at=world.now(),
            ctx=_ctx(period, name),
            account_id=person.account.id,
            patient_key=person.patient.id_hash if action in ("hold", "confirm") else None,
            slot_id=slot_id,
            booking_id=booking_id,
        ),
        outcome=outcome,
    )
    world.db.commit()


def _ctx(period: MetricsPeriod, name: str) -> RequestContext:
    person = period.people[name]
    return period.world.ctx(person.account, channel_id=person.channel.id, device_id=person.device)


def _person(world: World, channel: Channel, name: str) -> Person:
    account = create_account(world.db, world.platform, channel_id=channel.id)
    patient = create_patient(world.db, world.platform, account=account)
    world.db.commit()
    device = EVE_DEVICE if name == "eve" else f"{name}-device"
    return Person(account=account, patient=patient, channel=channel, device=device)


def _session_at(world: World, hospital: Hospital) -> ClinicSession:
    department = create_department(world.db, hospital=hospital)
    doctor = create_doctor(world.db, hospital=hospital, department=department)
    session = import_session(
        world.db,
        hospital=hospital,
        department=department,
        doctor=doctor,
        date=dt.date(2026, 11, 25),
        now=world.now(),
        capacity=3,
    )
    world.db.commit()
    return session
