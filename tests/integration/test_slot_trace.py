"""A slot's trace for staff (``ledger/trace.py``) on SQLite and PostgreSQL: its ledger in
order with masked people and shortened keyed hashes, the replayed state, events the
clock made due, and the audit row."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from factories.release_day import ReleaseDay, release_day
from factories.review import refused
from factories.staff import actor, create_staff
from factories.world import World
from fairslot.ledger.events import EventKind
from fairslot.ledger.trace import SHORT, slot_of_booking, trace_slot
from fairslot.schedules.states import SlotState
from fairslot.staff.audit import StaffActor
from fairslot.staff.models import StaffAction
from fairslot.staff.roles import Role


@pytest.fixture
def day(world: World) -> ReleaseDay:
    return release_day(world)


@pytest.fixture
def reviewer(day: ReleaseDay) -> StaffActor:
    world = day.world
    return actor(create_staff(world.db, username="wu", roles={Role.REVIEWER}, now=world.now()))


def test_a_cancelled_slot_reads_pushed_released_held_booked_cancelled_cooling(
    day: ReleaseDay, reviewer: StaffActor
) -> None:
    world = day.world
    booking = day.cancelled_booking
    assert booking is not None
    found = trace_slot(
        world.db,
        slot_id=booking.slot_id,
        protector=world.platform.protector,
        actor=reviewer,
        now=world.now(),
    )
    assert [e.kind for e in found.events] == [
        EventKind.PUSHED,
        EventKind.RELEASED,
        EventKind.HELD,
        EventKind.BOOKED,
        EventKind.CANCELLED,
        EventKind.COOLING,
    ]
    assert [e.number for e in found.events] == [1, 2, 3, 4, 5, 6]
    assert found.state == SlotState.COOLING and found.replay_matches
    assert found.replayed_reopen_at == found.reopen_at
    held = found.events[2]
    assert held.actor == "patient" and held.channel == world.channel.name
    assert held.booking_id == booking.id and held.patient is not None and "****" in held.patient
    protector = world.platform.protector
    assert (
        held.device
        == protector.keyed_hash(f"phone-{booking.patient_id}", purpose="device")[:SHORT] + "…"
    )
    assert held.network is not None and held.network.startswith("ip ")
    assert "198.51.100.7" not in held.network
    paid = found.events[3]
    assert paid.payment is not None and len(paid.payment) == SHORT + 1
    cooling = dict(found.events[5].details)
    assert cooling["reopen_at"] == found.reopen_at.astimezone(
        dt.timezone(dt.timedelta(hours=8))
    ).strftime("%Y-%m-%d %H:%M:%S")
    assert found.due == []


def test_a_re_release_the_clock_made_due_is_shown_as_due_not_written(
    day: ReleaseDay, reviewer: StaffActor
) -> None:
    world = day.world
    booking = day.cancelled_booking
    assert booking is not None
    world.platform.clock.advance(dt.timedelta(hours=4))  # type: ignore[attr-defined]
    found = trace_slot(
        world.db,
        slot_id=booking.slot_id,
        protector=world.platform.protector,
        actor=reviewer,
        now=world.now(),
    )
    assert [(d.kind, d.at) for d in found.due] == [(EventKind.RE_RELEASED, found.reopen_at)]
    assert found.events[-1].kind == EventKind.COOLING  # nothing was written


def test_a_draw_winners_slot_names_the_draw_as_actor(day: ReleaseDay, reviewer: StaffActor) -> None:
    world = day.world
    winner = day.winners[0]
    found = trace_slot(
        world.db,
        slot_id=slot_of_booking(world.db, booking_id=winner.id),
        protector=world.platform.protector,
        actor=reviewer,
        now=world.now(),
    )
    assert found.state == SlotState.BOOKED and found.replay_matches
    assert {e.actor for e in found.events if e.kind in (EventKind.HELD, EventKind.BOOKED)} == {
        f"draw:{day.draw.id}"
    }


def test_reading_a_trace_is_audited(day: ReleaseDay, reviewer: StaffActor) -> None:
    world = day.world
    booking = day.sold_out_booking
    assert booking is not None
    trace_slot(
        world.db,
        slot_id=booking.slot_id,
        protector=world.platform.protector,
        actor=reviewer,
        now=world.now(),
    )
    world.db.commit()
    row = world.db.scalars(select(StaffAction).where(StaffAction.action == "slot.trace")).one()
    assert (row.actor, row.target_kind, row.target_id) == ("wu", "slot", booking.slot_id)


def test_unknown_slots_and_bookings_are_refused(day: ReleaseDay, reviewer: StaffActor) -> None:
    world = day.world
    unknown = "00000000-0000-4000-8000-000000000000"
    assert refused(slot_of_booking, world.db, booking_id=unknown) == "booking_not_found"
    code = refused(
        trace_slot,
        world.db,
        slot_id=unknown,
        protector=world.platform.protector,
        actor=reviewer,
        now=world.now(),
    )
    assert code == "slot_not_found"
