"""What a draw owes comes before the waitlist (allocation/owed.py), on SQLite and
PostgreSQL: an entry cleared after its draw, whose place had won but found no slot free,
gets the next slot of its department-day that comes back — before the patients waiting on
the session's waitlist, who joined after the draw had given its slots out. Once the debt
is paid, returned slots go to the waitlist as before."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from factories import bookings as arrange
from factories.batches import run_worker
from factories.bookings import cancel
from factories.draw_entries import draw_world, register
from factories.world import UNRELEASED_DAY, World
from fairslot.allocation import screening_review
from fairslot.allocation.models import Intent, ScreeningEvent
from fairslot.allocation.states import IntentStatus
from fairslot.bookings.models import Booking
from fairslot.bookings.states import BookingStatus
from fairslot.patients.models import Account, Patient
from fairslot.schedules.models import ClinicSession
from fairslot.staff.audit import cli_actor
from fairslot.waitlist import service as waitlist
from fairslot.waitlist import sweeps
from fairslot.waitlist.models import WaitlistEntry, WaitStatus

MIN = dt.timedelta(minutes=1)


@pytest.fixture
def world(db, platform) -> World:  # type: ignore[no-untyped-def]
    return draw_world(db, platform)


def enter(world: World, account: Account, patient: Patient, session: ClinicSession) -> Intent:
    """An entrant of a ring: two phones, one payment account and one address for six."""
    found, _ = register(
        world,
        account,
        patient,
        session,
        device=f"grab-phone-{patient.id % 2}",
        ip="198.51.100.7",
        payment="6222020000009999",
    )
    return found


def sweep(world: World) -> sweeps.SweepReport:
    report = sweeps.sweep(
        world.db,
        now=world.now(),
        policy=world.policy,
        rng=world.platform.rng,
        protector=world.platform.protector,
    )
    world.db.commit()
    return report


def book(world: World, account: Account, patient: Patient, session: ClinicSession) -> Booking:
    return arrange.book(world, account, patient, world.slots(session)[0].id)


def wait(world: World, account: Account, patient: Patient, session: ClinicSession) -> str:
    entry = waitlist.join(
        world.db,
        account_id=account.id,
        patient_id=patient.id,
        session_id=session.id,
        payment_account=f"62220200{patient.id:08d}",
        payment_reference=f"wait-{patient.id}",
        now=world.now(),
        ctx=world.ctx(account, device_id=f"phone-{patient.id}"),
        policy=world.policy,
        rng=world.platform.rng,
        protector=world.platform.protector,
    )
    world.db.commit()
    return entry.id


def reread(world: World, model: type[Intent] | type[WaitlistEntry], key: str):  # type: ignore[no-untyped-def]
    world.db.expire_all()
    found = world.db.get(model, key)
    world.db.commit()
    assert found is not None
    return found


def past_cooling(world: World) -> None:
    world.platform.clock.set(
        world.now() + dt.timedelta(minutes=world.policy.cooling_max_minutes + 1)
    )


def test_an_entry_the_draw_owes_gets_a_returned_slot_before_the_waitlist(world: World) -> None:
    session = world.session(day=UNRELEASED_DAY, capacity=1)
    ring = [world.patient() for _ in range(6)]
    world.platform.clock.set(session.push_at + MIN)
    entries = [enter(world, account, patient, session) for account, patient in ring]
    world.platform.clock.set(session.release_at)
    run_worker(world)  # every entrant held out for review: the slot is left over
    assert {reread(world, Intent, e.id).status for e in entries} == {IntentStatus.HELD}
    first_account, first = world.patient()
    taken = book(world, first_account, first, session)  # the leftover, first-come

    # A reviewer clears one entrant: alone in the published order, its place had won —
    # but the slot is booked, so the draw owes it the next one.
    done = screening_review.clear(
        world.db,
        intent_id=entries[0].id,
        actor=cli_actor("reviewer"),
        reason="called the patient: a real person",
        now=world.now(),
        policy=world.policy,
        rng=world.platform.rng,
    )
    world.db.commit()
    assert done.outcome == "owed"
    waiting_account, waiting = world.patient()
    waiting_id = wait(world, waiting_account, waiting, session)  # joined after the draw

    cancel(world, first_account, taken)  # the slot cools, then comes back
    past_cooling(world)
    sweep(world)

    owed = reread(world, Intent, entries[0].id)
    assert owed.status == IntentStatus.WON and owed.booking_id is not None
    booking = world.db.get(Booking, owed.booking_id)
    world.db.commit()
    assert booking is not None and booking.status == BookingStatus.BOOKED  # pre-authorised
    assert reread(world, WaitlistEntry, waiting_id).status == WaitStatus.WAITING
    events = list(
        world.db.scalars(
            select(ScreeningEvent.kind).where(ScreeningEvent.intent_id == entries[0].id)
        )
    )
    world.db.commit()
    assert "remedy_booked" in events

    # The debt paid, the next returned slot is the waitlist's, as always.
    cancel(world, ring[0][0], booking)
    past_cooling(world)
    sweep(world)
    assert reread(world, WaitlistEntry, waiting_id).status == WaitStatus.BOOKED


def test_with_nothing_owed_a_returned_slot_goes_to_the_waitlist(world: World) -> None:
    session = world.session(day=UNRELEASED_DAY, capacity=1)
    world.platform.clock.set(session.release_at)
    run_worker(world)  # nobody entered: drawn empty, then on sale
    first_account, first = world.patient()
    taken = book(world, first_account, first, session)
    waiting_account, waiting = world.patient()
    waiting_id = wait(world, waiting_account, waiting, session)
    cancel(world, first_account, taken)
    past_cooling(world)
    sweep(world)
    assert reread(world, WaitlistEntry, waiting_id).status == WaitStatus.BOOKED
