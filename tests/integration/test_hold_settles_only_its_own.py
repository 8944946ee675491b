"""A hold does only its own work (issue 14): gate, rules, claim, ledger. Other patients'
lapsed holds and due re-releases are the sweeper's; the claim's due-time predicate treats
them as the clock says; the ledger stays exact."""

from __future__ import annotations

import datetime as dt

import pytest

from factories.bookings import hold
from factories.world import World, make_world
from fairslot.bookings import repository as booking_repo
from fairslot.bookings.models import Booking
from fairslot.bookings.states import BookingStatus
from fairslot.errors import DomainError
from fairslot.ledger import repository as ledger_repo
from fairslot.ledger.events import EventKind
from fairslot.ledger.replay import replay
from fairslot.schedules.states import SlotState
from fairslot.waitlist import sweeps

MIN = dt.timedelta(minutes=1)


@pytest.fixture
def world(db, platform) -> World:  # type: ignore[no-untyped-def]
    return make_world(db, platform)


def status_of(world: World, booking_id: str) -> BookingStatus:
    world.db.expire_all()
    found = world.db.get(Booking, booking_id)
    assert found is not None
    world.db.commit()
    return found.status


def kinds(world: World, slot_id: str) -> list[EventKind]:
    return [e.kind for e in ledger_repo.history(world.db, slot_id)]


def assert_replay_matches(world: World, slot_id: str) -> None:
    world.db.expire_all()
    slot = booking_repo.get_slot(world.db, slot_id)
    assert slot is not None
    events = ledger_repo.history(world.db, slot_id)
    replayed = replay((e.kind, e.data) for e in events)
    assert replayed.state == slot.state
    if slot.state == SlotState.COOLING:
        assert replayed.reopen_at == slot.reopen_at
    world.db.commit()


def test_a_hold_on_a_lapsed_hold_s_slot_leaves_its_expiry_to_the_sweeper(world: World) -> None:
    session = world.session(capacity=1)
    slot_id = world.slots(session)[0].id
    first_account, first = world.patient()
    late_account, late = world.patient()
    lapsed = hold(world, first_account, first, slot_id)
    world.platform.clock.advance(7 * MIN)  # two minutes past its payment time

    with pytest.raises(DomainError) as info:
        hold(world, late_account, late, slot_id)
    world.db.commit()  # even a caller that kept the refused hold's changes wrote nothing

    assert info.value.code == "slot_taken"
    assert status_of(world, lapsed.id) == BookingStatus.HELD  # not settled by the hold
    report = sweeps.sweep(world.db, now=world.now(), policy=world.policy, rng=world.platform.rng)
    world.db.commit()
    assert report.holds_expired == 1
    assert status_of(world, lapsed.id) == BookingStatus.EXPIRED
    slot = booking_repo.get_slot(world.db, slot_id)
    assert slot is not None and slot.state == SlotState.COOLING
    # the drawn cooling runs from the hold's expiry instant, not from the sweep
    assert slot.reopen_at is not None and slot.reopen_at >= lapsed.expires_at + 10 * MIN
    assert kinds(world, slot_id)[-2:] == [EventKind.HOLD_EXPIRED, EventKind.COOLING]
    assert_replay_matches(world, slot_id)


def test_a_cooled_slot_nobody_waits_for_is_claimed_straight_with_its_re_release_written(
    world: World,
) -> None:
    session = world.session(capacity=1)
    slot_id = world.slots(session)[0].id
    first_account, first = world.patient()
    next_account, following = world.patient()
    lapsed = hold(world, first_account, first, slot_id)
    world.platform.clock.advance(5 * MIN)
    sweeps.sweep(world.db, now=world.now(), policy=world.policy, rng=world.platform.rng)
    world.db.commit()
    reopen_at = booking_repo.get_slot(world.db, slot_id).reopen_at  # type: ignore[union-attr]
    world.db.commit()
    assert reopen_at is not None
    world.platform.clock.set(reopen_at)  # type: ignore[attr-defined]

    again = hold(world, next_account, following, slot_id)

    assert again.slot_id == slot_id and status_of(world, lapsed.id) == BookingStatus.EXPIRED
    assert kinds(world, slot_id)[-3:] == [EventKind.COOLING, EventKind.RE_RELEASED, EventKind.HELD]
    re_released = ledger_repo.history(world.db, slot_id)[-2]
    assert re_released.at == reopen_at
    world.db.commit()
    assert_replay_matches(world, slot_id)


def test_a_patient_whose_own_hold_lapsed_can_hold_again_that_department_day(
    world: World,
) -> None:
    """The patient's own lapsed hold is not counted by the rules and is expired by their
    next hold (their department-day must be free), before any sweep."""
    session = world.session(capacity=2)
    first_slot, second_slot = (s.id for s in world.slots(session))
    account, patient = world.patient()
    lapsed = hold(world, account, patient, first_slot)
    world.platform.clock.advance(5 * MIN)

    again = hold(world, account, patient, second_slot)

    assert again.slot_id == second_slot
    assert status_of(world, lapsed.id) == BookingStatus.EXPIRED
    assert kinds(world, first_slot)[-2:] == [EventKind.HOLD_EXPIRED, EventKind.COOLING]
    assert_replay_matches(world, first_slot)
    assert_replay_matches(world, second_slot)
