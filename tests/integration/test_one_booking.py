"""Every path that books goes through one booking function (``bookings.booking.book_slot``),
so a patient the booking rules now refuse is refused the same way on each: a channel's
hold, a release draw's winner, a release batch's winner and a waitlist placement. On
SQLite and PostgreSQL.

Each test lets the patient in (joined, registered, entered) and then puts them over the
per-patient limit of upcoming bookings before the path books; the refusal each path
records is the hold's own code."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from sqlalchemy import select

from factories import batches as batch_factory
from factories.batches import run_worker
from factories.bookings import book, hold, join
from factories.world import RELEASED_DAY, UNRELEASED_DAY, World, make_world
from fairslot.allocation import service as allocation
from fairslot.allocation.models import Intent
from fairslot.allocation.states import AllocationMode, IntentStatus
from fairslot.blacklist.models import Scope
from fairslot.blacklist.service import block_key
from fairslot.bookings import attendance
from fairslot.bookings import service as bookings
from fairslot.bookings.models import Booking
from fairslot.bookings.states import BookingStatus
from fairslot.channels.models import ChannelKind
from fairslot.errors import DomainError
from fairslot.notifications.models import Notification
from fairslot.patients.models import Account, Patient
from fairslot.schedules.models import ClinicSession
from fairslot.schedules.states import SlotState
from fairslot.staff.audit import cli_actor
from fairslot.waitlist import repository as waitlist_repo
from fairslot.waitlist import sweeps
from fairslot.waitlist.models import WaitStatus

LIMIT = "active_booking_limit"  # the hold's refusal when upcoming bookings are capped
ANOTHER_DAY = RELEASED_DAY + dt.timedelta(days=1)


@pytest.fixture
def world(db, platform) -> World:
    w = make_world(db, platform)
    w.platform.settings.max_active_future_bookings = 1
    return w


def hold_refusal(world: World, account: Account, patient: Patient, slot_id: str) -> str:
    with pytest.raises(DomainError) as info:
        hold(world, account, patient, slot_id)
    world.db.rollback()
    return info.value.code


def upcoming_elsewhere(world: World, account: Account, patient: Patient) -> None:
    """The patient's one allowed upcoming booking, on another day."""
    book(world, account, patient, world.slots(world.session(day=ANOTHER_DAY))[0].id)


def intent_of(world: World, intent_id: str) -> Intent:
    world.db.expire_all()
    found = world.db.get(Intent, intent_id)
    assert found is not None
    world.db.commit()
    return found


def bookings_of(world: World, patient: Patient, session: ClinicSession) -> list[Booking]:
    found = list(
        world.db.scalars(
            select(Booking).where(
                Booking.patient_id == patient.id, Booking.session_id == session.id
            )
        )
    )
    world.db.commit()
    return found


def closed_reasons(world: World) -> list[str]:
    rows = world.db.scalars(select(Notification).where(Notification.kind == "waitlist_closed"))
    reasons = [str(n.payload["reason"]) for n in rows]
    world.db.commit()
    return reasons


# -- the waitlist ----------------------------------------------------------------------


def returned_slot_swept(
    world: World, session: ClinicSession, canceller: Account, b: Booking
) -> sweeps.SweepReport:
    """Cancel ``b`` and sweep once its cooling is over: the slot goes to the waitlist."""
    bookings.cancel(
        world.db,
        booking_id=b.id,
        account_id=canceller.id,
        now=world.now(),
        ctx=world.ctx(canceller),
        channel_kind=ChannelKind.WECHAT,
        policy=world.policy,
        rng=world.platform.rng,
    )
    world.db.commit()
    world.db.expire_all()
    slot = next(s for s in world.slots(session) if s.id == b.slot_id)
    assert slot.state == SlotState.COOLING and slot.reopen_at is not None
    world.platform.clock.set(slot.reopen_at)
    report = sweeps.sweep(world.db, now=world.now(), policy=world.policy, rng=world.platform.rng)
    world.db.commit()
    return report


def waiting(world: World) -> tuple[ClinicSession, Account, Booking, Account, Patient, str]:
    """A full one-slot session and a patient waiting for it."""
    session = world.session(capacity=1)
    canceller, holder = world.patient()
    taken = book(world, canceller, holder, world.slots(session)[0].id)
    account, patient = world.patient()
    entry = join(world, account, patient, session)
    return session, canceller, taken, account, patient, entry.id


def entry_status(world: World, entry_id: str) -> WaitStatus:
    found = waitlist_repo.get_entry(world.db, entry_id)
    assert found is not None
    world.db.commit()
    return found.status


def test_a_waitlist_placement_over_the_booking_limit_is_refused_as_a_hold_is(
    world: World,
) -> None:
    session, canceller, taken, account, patient, entry_id = waiting(world)
    upcoming_elsewhere(world, account, patient)
    # The hold's refusal for this patient now, on a session with a free slot.
    assert hold_refusal(world, account, patient, world.slots(world.session())[0].id) == LIMIT

    report = returned_slot_swept(world, session, canceller, taken)

    assert report.waitlist_booked == 0
    assert entry_status(world, entry_id) == WaitStatus.CLOSED
    assert closed_reasons(world) == [LIMIT]
    assert bookings_of(world, patient, session) == []


def test_a_waitlist_placement_for_a_patient_banned_for_no_shows_is_refused_as_a_hold_is(
    world: World,
) -> None:
    world.platform.settings.max_active_future_bookings = 5
    session, canceller, taken, account, patient, entry_id = waiting(world)
    missed_session = world.session(day=dt.date(2026, 11, 22), start=dt.time(9, 0))
    missed = book(world, account, patient, world.slots(missed_session)[0].id)
    world.platform.clock.set(missed_session.ends_at)
    attendance.mark_no_show(
        world.db,
        hospital_id=world.hospital.id,
        booking_id=missed.id,
        now=world.now(),
        ctx=world.ctx(actor="hospital:test"),
    )
    world.db.commit()
    assert hold_refusal(world, account, patient, world.slots(world.session())[0].id) == (
        "no_show_ban"
    )

    returned_slot_swept(world, session, canceller, taken)

    assert entry_status(world, entry_id) == WaitStatus.CLOSED
    assert closed_reasons(world) == ["no_show_ban"]
    assert bookings_of(world, patient, session) == []


def test_a_waitlist_placement_for_a_patient_blacklisted_since_joining_is_not_booked(
    world: World,
) -> None:
    session, canceller, taken, _, patient, entry_id = waiting(world)
    block_key(
        world.db,
        scope=Scope.PATIENT,
        key_hash=patient.id_hash,
        label="patient",
        reason="confirmed scalper",
        actor=cli_actor("it-admin"),
        now=world.now(),
    )
    world.db.commit()

    returned_slot_swept(world, session, canceller, taken)

    assert entry_status(world, entry_id) == WaitStatus.CLOSED
    assert closed_reasons(world) == ["blacklisted"]
    assert bookings_of(world, patient, session) == []


def test_a_waitlist_placement_books_through_the_one_function_with_its_feed(
    world: World,
) -> None:
    session, canceller, taken, _, patient, entry_id = waiting(world)

    report = returned_slot_swept(world, session, canceller, taken)

    assert report.waitlist_booked == 1 and entry_status(world, entry_id) == WaitStatus.BOOKED
    [booking] = bookings_of(world, patient, session)
    assert booking.status == BookingStatus.BOOKED
    feed = [
        n
        for n in world.db.scalars(
            select(Notification).where(Notification.kind == "booking_confirmed")
        )
        if n.booking_id == booking.id
    ]
    world.db.commit()
    # The hospital's feed as ``book_slot`` writes it for every path, the entry named.
    assert len(feed) == 1
    assert feed[0].payload["session_id"] == session.id
    assert feed[0].payload["waitlist_id"] == entry_id


# -- the release draw and the release batch ----------------------------------------------


def test_a_draw_winner_over_the_booking_limit_is_refused_as_a_hold_is(world: World) -> None:
    drawn = world.department_(allocation_mode=AllocationMode.DRAW)
    session = world.session(day=UNRELEASED_DAY, capacity=2, department=drawn)
    account, patient = world.patient()
    world.platform.clock.set(session.push_at + dt.timedelta(minutes=1))
    made, _ = allocation.register_intent(
        world.db,
        account_id=account.id,
        patient_id=patient.id,
        target=allocation.IntentTarget(session_id=session.id),
        payment_account=f"62220200{patient.id:08d}",
        payment_reference=f"pre-{patient.id}",
        now=world.now(),
        ctx=world.ctx(account, device_id=f"dev-{patient.id}"),
        policy=world.policy,
        protector=world.platform.protector,
    )
    world.db.commit()
    upcoming_elsewhere(world, account, patient)

    world.platform.clock.set(session.release_at)
    run_worker(world)

    decided = intent_of(world, made.id)
    assert (decided.status, decided.reason) == (IntentStatus.REFUSED, LIMIT)
    assert bookings_of(world, patient, session) == []
    assert hold_refusal(world, account, patient, world.slots(session)[0].id) == LIMIT


def test_a_release_batch_winner_over_the_booking_limit_is_refused_as_a_hold_is(
    world: World,
) -> None:
    department = batch_factory.batch_department(world)
    session = world.session(day=UNRELEASED_DAY, capacity=2, department=department)
    world.platform.clock.set(session.push_at)
    batch = batch_factory.open_batch(world, session, rng=random.Random(20261206))
    account, patient = world.patient()
    world.platform.clock.set(session.release_at)
    entered = batch_factory.hold(world, account, patient, session)
    assert not isinstance(entered, Booking)
    upcoming_elsewhere(world, account, patient)

    world.platform.clock.set(batch.due_at)
    run_worker(world)

    decided = intent_of(world, entered.entry.id)
    assert (decided.status, decided.reason) == (IntentStatus.REFUSED, LIMIT)
    assert bookings_of(world, patient, session) == []
    assert hold_refusal(world, account, patient, world.slots(session)[0].id) == LIMIT
