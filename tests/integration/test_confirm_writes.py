"""A confirmation's writes (issue 14): the booking's and the slot's compare-and-sets and
the ``booked`` row — one statement on PostgreSQL (``bookings/confirm_statement.py``),
three on SQLite — write all or, where a compare-and-set finds its row changed, nothing
after it, and the refusal names which."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, update

from factories.bookings import confirm, hold
from factories.world import World, make_world
from fairslot.bookings import transitions
from fairslot.bookings.errors import StateConflict
from fairslot.bookings.models import Booking
from fairslot.bookings.states import BookingStatus
from fairslot.ledger import repository as ledger_repo
from fairslot.ledger.events import EventKind
from fairslot.ledger.models import SlotEvent
from fairslot.ledger.replay import replay
from fairslot.patients.models import Account
from fairslot.schedules.models import Slot
from fairslot.schedules.states import SlotState


@pytest.fixture
def world(db, platform) -> World:  # type: ignore[no-untyped-def]
    return make_world(db, platform)


def _held(world: World) -> Booking:
    session = world.session(capacity=1)
    account, patient = world.patient()
    return hold(world, account, patient, world.slots(session)[0].id)


def _confirm(world: World, booking: Booking, *, at: dt.datetime) -> None:
    transitions.confirm(
        world.db, booking=booking, patient_key="pk", now=at, ctx=world.ctx(),
        payment_account_hash="h", payment_account_masked="6222****1234",
        payment_reference="T-1",
    )  # fmt: skip


def _state(world: World, booking: Booking) -> tuple[BookingStatus, SlotState, list[EventKind]]:
    status = world.db.scalar(select(Booking.status).where(Booking.id == booking.id))
    state = world.db.scalar(select(Slot.state).where(Slot.id == booking.slot_id))
    kinds = world.db.scalars(
        select(SlotEvent.kind).where(SlotEvent.slot_id == booking.slot_id).order_by(SlotEvent.id)
    ).all()
    assert status is not None and state is not None
    return status, state, list(kinds)


def test_a_confirmation_books_the_booking_and_its_slot_and_writes_booked_once(
    world: World,
) -> None:
    held = _held(world)
    account = world.db.get(Account, held.account_id)
    assert account is not None

    booked = confirm(world, account, held)

    status, state, kinds = _state(world, booked)
    assert (status, state) == (BookingStatus.BOOKED, SlotState.BOOKED)
    assert kinds[-2:] == [EventKind.HELD, EventKind.BOOKED] and kinds.count(EventKind.BOOKED) == 1
    (event,) = [e for e in ledger_repo.history(world.db, held.slot_id) if e.kind == "booked"]
    assert event.booking_id == held.id
    assert event.data == {"payment_reference": booked.payment_reference}
    assert event.account_id == held.account_id
    events = ledger_repo.history(world.db, held.slot_id)
    assert replay((e.kind, e.data) for e in events).state == SlotState.BOOKED
    world.db.commit()


def test_an_expired_hold_is_refused_and_nothing_is_written(world: World) -> None:
    held = _held(world)
    before = _state(world, held)

    with pytest.raises(StateConflict) as refused:
        _confirm(world, held, at=held.expires_at)

    assert refused.value.code == "hold_not_active"
    # in the refused transaction, before its rollback: nothing after the failed move
    assert _state(world, held) == before == (
        BookingStatus.HELD, SlotState.HELD,
        [EventKind.PUSHED, EventKind.RELEASED, EventKind.HELD],
    )  # fmt: skip
    world.db.rollback()


def test_a_slot_no_longer_held_is_refused_without_its_booked_row(world: World) -> None:
    held = _held(world)
    cooled = {"state": SlotState.COOLING, "reopen_at": world.now() + dt.timedelta(hours=1)}
    world.db.execute(update(Slot).where(Slot.id == held.slot_id).values(cooled))
    world.db.commit()

    with pytest.raises(StateConflict) as refused:
        _confirm(world, held, at=world.now())

    assert "no longer held" in refused.value.detail
    assert EventKind.BOOKED not in _state(world, held)[2]
    world.db.rollback()
    assert _state(world, held)[0] == BookingStatus.HELD  # the booking's move is undone
    world.db.commit()
