"""The daily report's pictures read the right counts: requests and bookings per minute
around the release and per hour through the day, refusals by reason, and who took the
scarce slots — on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from factories.report_data import create_alert
from factories.staff import actor, create_staff
from factories.world import World
from fairslot.audit import service as audit
from fairslot.audit.service import PendingRecord
from fairslot.blacklist import service as blacklist
from fairslot.blacklist.models import Scope
from fairslot.bookings import service as bookings
from fairslot.bookings.models import Booking
from fairslot.clock import ManualClock
from fairslot.patients.models import Account, Patient
from fairslot.risk import report_activity_service as figures
from fairslot.risk.models import RiskAlert
from fairslot.risk.report_activity import Taker
from fairslot.schedules.models import ClinicSession
from fairslot.staff.roles import Role

SHANGHAI = ZoneInfo("Asia/Shanghai")
ZONE = "Asia/Shanghai"
DAY = dt.date(2026, 11, 23)  # the clock starts on 11-22 08:00 in Shanghai


def local(hhmmss: str, *, day: dt.date = DAY) -> dt.datetime:
    moment = dt.datetime.combine(day, dt.time.fromisoformat(hhmmss), tzinfo=SHANGHAI)
    return moment.astimezone(dt.UTC)


def record(world: World, at: dt.datetime, action: str, outcome: str = "ok", n: int = 1) -> None:
    for _ in range(n):
        audit.write(
            world.db,
            pending=PendingRecord(action=action, at=at, ctx=world.ctx()),
            outcome=outcome,
        )
    world.db.commit()


def book(
    world: World,
    session: ClinicSession,
    *,
    device: str,
    payer: str,
    who: tuple[Account, Patient] | None = None,
) -> tuple[Booking, Account, Patient]:
    account, patient = who or world.patient()
    slot = next(s for s in world.slots(session) if s.state == "open")
    ctx = world.ctx(account, device_id=device, ip="10.9.8.7")
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
    bookings.confirm(
        world.db,
        booking_id=booking.id,
        account_id=account.id,
        payment_account=payer,
        payment_reference=f"pay-{booking.id[:8]}",
        now=world.now(),
        ctx=ctx,
        protector=world.platform.protector,
    )
    world.db.commit()
    return booking, account, patient


def test_the_release_hour_counts_requests_refusals_and_bookings_minute_by_minute(
    world: World, db: Session, clock: ManualClock
) -> None:
    session = world.session(capacity=5)
    clock.set(local("00:31:30"))
    book(world, session, device="phone-1", payer="6222020000000001")
    book(world, session, device="phone-2", payer="6222020000000002")
    record(world, local("00:29:59"), "hold", "rate_limited")
    record(world, local("00:30:05"), "availability", n=3)
    record(world, local("00:31:10"), "hold", n=2)
    record(world, local("00:31:20"), "hold", "slot_taken", n=4)
    record(world, local("09:00:00"), "confirm", "request_blocked")
    record(world, local("23:59:59", day=DAY - dt.timedelta(days=1)), "hold", "slot_taken")

    hour = figures.release_hour(db, day=DAY, zone=ZONE)
    assert hour.buckets.start == local("00:20:00")
    assert hour.buckets.count == 60
    assert hour.marks == (local("00:30:00"),)
    assert hour.refused[9] == 1 and hour.actions[9] == 1  # 00:29
    assert hour.lookups[10] == 3 and hour.actions[10] == 0  # 00:30
    assert (hour.actions[11], hour.refused[11], hour.booked[11]) == (6, 4, 2)  # 00:31
    assert (sum(hour.lookups), sum(hour.actions), sum(hour.refused), sum(hour.booked)) == (
        3,
        7,
        5,
        2,
    )

    day = figures.whole_day(db, day=DAY, zone=ZONE)
    assert day.buckets.count == 24
    assert (day.lookups[0], day.actions[0], day.refused[0], day.booked[0]) == (3, 7, 5, 2)
    assert (day.actions[9], day.refused[9]) == (1, 1)
    assert sum(day.actions) == 8  # the day before is not counted

    refusals = figures.refusals_of_day(db, day=DAY, zone=ZONE)
    assert refusals.reasons == (("slot_taken", 4), ("rate_limited", 1), ("request_blocked", 1))


def test_a_quiet_day_has_empty_pictures(world: World, db: Session) -> None:
    assert figures.release_hour(db, day=DAY, zone=ZONE).empty
    assert figures.refusals_of_day(db, day=DAY, zone=ZONE).total == 0
    takers = figures.scarce_takers_of_day(
        db, day=DAY, zone=ZONE, protector=world.platform.protector
    )
    assert takers.total == 0


def test_scarce_slots_are_told_apart_by_who_was_flagged_or_blacklisted_later(
    world: World, db: Session, clock: ManualClock
) -> None:
    protector = world.platform.protector
    it = actor(create_staff(db, username="it_zhao", roles={Role.IT_ADMIN}, now=clock.now()))
    full = world.session(capacity=5)  # every slot taken below: scarce
    roomy = world.session(capacity=5, day=dt.date(2026, 11, 26))  # one taken: not scarce
    clock.set(local("00:31:00"))

    # A patient blocked days ago and lifted in person before the day: a genuine patient now.
    _, cleared_account, cleared = book(world, roomy, device="phone-c", payer="6222020000000013")
    old = blacklist.block_key(
        db,
        scope=Scope.PATIENT,
        key_hash=cleared.id_hash,
        label="patient ****0001",
        reason="mistaken",
        actor=it,
        now=local("10:00:00", day=DAY - dt.timedelta(days=5)),
    )
    blacklist.lift_in_person(
        db,
        entry_id=old.id,
        actor=it,
        checked="ID seen",
        now=local("10:00:00", day=DAY - dt.timedelta(days=2)),
    )
    db.commit()

    book(world, full, device="phone-a", payer="6222020000000011")  # genuine
    _, flagged_account, _ = book(world, full, device="phone-b", payer="6222020000000012")
    book(world, full, device="phone-c", payer="6222020000000013", who=(cleared_account, cleared))
    _, _, in_ring = book(world, full, device="phone-d", payer="6222020000000015")
    book(world, full, device="grab-bot-9", payer="6222020000000016")  # blacklisted later
    book(world, roomy, device="grab-bot-9", payer="6222020000000016")  # not scarce

    # The next day's batch flags one account and a ring; IT blocks the bot's device.
    clock.set(local("01:10:00", day=DAY + dt.timedelta(days=1)))
    create_alert(
        db,
        day=DAY + dt.timedelta(days=1),
        rule="synchrony",
        kind="account",
        key=f"account:{flagged_account.id}",
        label=f"account {flagged_account.id}",
        case=None,
        at=clock.now(),
    )
    db.add(
        RiskAlert(
            run_date=DAY,
            rule="ring",
            entity_kind="ring",
            entity_key="ring-abc",
            entity_label="ring abc",
            score=1.5,
            explanation="a ring",
            booking_ids=[],
            event_ids=[],
            details={"patients": [{"key": in_ring.id_hash, "label": "patient ****0002"}]},
            created_at=clock.now(),
        )
    )
    blacklist.block_key(
        db,
        scope=Scope.DEVICE,
        key_hash=protector.keyed_hash("grab-bot-9", purpose="device"),
        label="gra***-9",
        reason="grab software",
        actor=it,
        now=clock.now(),
    )
    db.commit()

    takers = figures.scarce_takers_of_day(db, day=DAY, zone=ZONE, protector=protector)
    assert takers.total == 5
    (place,) = takers.places
    assert place.place == f"{world.hospital.name} · {world.department.name}"
    assert (place.genuine, place.flagged, place.blacklisted) == (2, 2, 1)
    assert takers.count(Taker.BLACKLISTED) == 1
