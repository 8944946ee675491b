"""Paying for a hold through a provider's signed callback, on SQLite and PostgreSQL: the
booking is confirmed once through ``bookings.confirm``, however often or concurrently the
provider calls back; a lapsed hold's payment is marked for refund."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from factories.release_day import book
from factories.world import World
from fairslot.blacklist import service as blacklist
from fairslot.blacklist.models import Scope
from fairslot.bookings.models import Booking
from fairslot.bookings.states import BookingStatus
from fairslot.clock import ManualClock
from fairslot.errors import DomainError
from fairslot.ledger.events import EventKind
from fairslot.ledger.models import SlotEvent
from fairslot.notifications.models import Notification
from fairslot.payments import repository as payment_repo
from fairslot.payments import service as payments
from fairslot.payments import signing
from fairslot.payments.errors import AmountMismatch, HoldLapsed, SignatureInvalid
from fairslot.payments.models import PaymentEvent, PaymentOrder
from fairslot.payments.providers import SandboxCashier
from fairslot.payments.states import OrderStatus
from fairslot.staff.audit import cli_actor

SECRET = "test-payment-secret"
PAYER = "alipay:2088000000007"


@pytest.fixture
def cashier() -> SandboxCashier:
    return SandboxCashier(secret=SECRET)


def held(world: World) -> Booking:
    return book(world, world.session(capacity=3, fee="38.50"), pay=False)


def checkout(world: World, booking: Booking, cashier: SandboxCashier) -> payments.Checkout:
    started = payments.checkout(
        world.db,
        booking_id=booking.id,
        account_id=booking.account_id,
        channel_id=world.channel.id,
        provider=cashier,
        return_url="/bookings",
        now=world.now(),
    )
    world.db.commit()
    return started


def answer(
    cashier: SandboxCashier, order_id: str, *, outcome: str = "paid", amount: str = "38.50"
) -> dict[str, str]:
    return cashier.callback_fields(
        order_id=order_id,
        amount=amount,
        outcome="paid" if outcome == "paid" else "cancelled",
        payer=PAYER,
        return_url="/bookings",
    )


def settle(world: World, cashier: SandboxCashier, fields: dict[str, str]) -> payments.Settlement:
    """As the edge does: commit on success, on a refusal keep only what it keeps."""
    try:
        settled = payments.settle(
            world.db,
            fields=fields,
            provider=cashier,
            now=world.now(),
            protector=world.platform.protector,
        )
    except DomainError as exc:
        world.db.commit() if exc.keep_changes else world.db.rollback()
        raise
    world.db.commit()
    return settled


def order_of(db: Session, order_id: str) -> PaymentOrder:
    db.expire_all()
    order = db.get(PaymentOrder, order_id)
    assert order is not None
    return order


def order_events(db: Session, order_id: str) -> list[str]:
    return [event.kind for event in payment_repo.events_of(db, order_id=order_id)]


def booked_events(db: Session, booking_id: str) -> int:
    return (
        db.scalar(
            select(func.count())
            .select_from(SlotEvent)
            .where(SlotEvent.booking_id == booking_id, SlotEvent.kind == EventKind.BOOKED)
        )
        or 0
    )


def test_checkout_asks_the_sessions_fee_and_opening_it_again_reuses_the_order(
    world: World, cashier: SandboxCashier
) -> None:
    booking = held(world)

    first = checkout(world, booking, cashier)
    again = checkout(world, booking, cashier)

    assert first.amount == Decimal("38.50")
    assert again.order_id == first.order_id
    assert first.redirect_url.startswith(f"/pay/sandbox/{first.order_id}?")


def test_a_paid_callback_confirms_the_booking_with_the_payer_and_the_order_id(
    world: World, cashier: SandboxCashier
) -> None:
    booking = held(world)
    order_id = checkout(world, booking, cashier).order_id

    settled = settle(world, cashier, answer(cashier, order_id))

    world.db.expire_all()
    fresh = world.db.get(Booking, booking.id)
    assert fresh is not None
    assert (settled.status, settled.booking_status, settled.first) == (
        OrderStatus.PAID,
        BookingStatus.BOOKED,
        True,
    )
    assert fresh.status == BookingStatus.BOOKED
    assert fresh.payment_reference == order_id
    assert fresh.payment_account_hash == world.platform.protector.keyed_hash(
        PAYER, purpose="payment_account"
    )
    assert order_of(world.db, order_id).payer_reference == PAYER
    assert order_events(world.db, order_id) == ["opened", "paid"]
    feed = world.db.scalars(select(Notification.kind).where(Notification.booking_id == booking.id))
    assert list(feed) == ["booking_confirmed"]


def test_a_repeated_callback_is_answered_and_confirms_nothing_twice(
    world: World, cashier: SandboxCashier
) -> None:
    booking = held(world)
    order_id = checkout(world, booking, cashier).order_id
    fields = answer(cashier, order_id)

    settle(world, cashier, fields)
    repeated = settle(world, cashier, fields)

    assert (repeated.status, repeated.first) == (OrderStatus.PAID, False)
    assert booked_events(world.db, booking.id) == 1
    assert order_events(world.db, order_id) == ["opened", "paid"]


def test_a_tampered_amount_is_refused_and_the_order_waits(
    world: World, cashier: SandboxCashier
) -> None:
    booking = held(world)
    order_id = checkout(world, booking, cashier).order_id
    tampered = answer(cashier, order_id) | {"amount": "0.01"}
    resigned_low = answer(cashier, order_id, amount="0.01")

    with pytest.raises(SignatureInvalid):
        settle(world, cashier, tampered)
    with pytest.raises(AmountMismatch):  # signed, but not the order's amount
        settle(world, cashier, resigned_low)

    assert order_of(world.db, order_id).status == OrderStatus.PENDING
    assert booked_events(world.db, booking.id) == 0


def test_a_cancelled_payment_closes_the_order_and_the_hold_can_be_paid_afresh(
    world: World, cashier: SandboxCashier
) -> None:
    booking = held(world)
    order_id = checkout(world, booking, cashier).order_id

    settled = settle(world, cashier, answer(cashier, order_id, outcome="cancelled"))
    second = checkout(world, booking, cashier)

    assert (settled.status, settled.booking_status) == (OrderStatus.CANCELLED, BookingStatus.HELD)
    assert second.order_id != order_id


def test_a_payment_after_the_hold_lapsed_is_marked_for_refund_and_refused_clearly(
    world: World, cashier: SandboxCashier, clock: ManualClock
) -> None:
    booking = held(world)
    order_id = checkout(world, booking, cashier).order_id
    clock.advance(dt.timedelta(minutes=world.policy.hold_minutes + 1))

    with pytest.raises(HoldLapsed) as refused:
        settle(world, cashier, answer(cashier, order_id))
    with pytest.raises(HoldLapsed):  # the provider's retry hears the same
        settle(world, cashier, answer(cashier, order_id))

    assert refused.value.status == 409
    assert refused.value.extra["order_status"] == "refund_due"
    assert order_of(world.db, order_id).status == OrderStatus.REFUND_DUE
    assert booked_events(world.db, booking.id) == 0
    events = payment_repo.events_of(world.db, order_id=order_id)
    assert [(e.kind, e.data.get("reason")) for e in events] == [
        ("opened", None),
        ("refund_due", "payment_hold_lapsed"),
    ]


def test_a_payment_from_a_blacklisted_payer_is_refused_and_marked_for_refund(
    world: World, cashier: SandboxCashier
) -> None:
    booking = held(world)
    order_id = checkout(world, booking, cashier).order_id
    blacklist.block(
        world.db,
        scope=Scope.PAYMENT,
        value=PAYER,
        reason="ring",
        actor=cli_actor("test"),
        now=world.now(),
        protector=world.platform.protector,
    )
    world.db.commit()

    with pytest.raises(DomainError) as refused:
        settle(world, cashier, answer(cashier, order_id))

    assert refused.value.code == "request_blocked"
    assert order_of(world.db, order_id).status == OrderStatus.REFUND_DUE


def test_two_callbacks_at_once_confirm_the_booking_once(
    world: World, cashier: SandboxCashier
) -> None:
    booking = held(world)
    order_id = checkout(world, booking, cashier).order_id
    fields = answer(cashier, order_id)
    barrier = threading.Barrier(2)
    results: list[object] = []

    def callback() -> None:
        with world.platform.sessions() as db:
            barrier.wait()
            try:
                results.append(
                    payments.settle(
                        db,
                        fields=fields,
                        provider=cashier,
                        now=world.now(),
                        protector=world.platform.protector,
                    ).first
                )
                db.commit()
            except Exception as exc:  # a refusal or a crash fails the assertion below
                db.rollback()
                results.append(exc)

    threads = [threading.Thread(target=callback) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(results, key=str) == [False, True]
    assert booked_events(world.db, booking.id) == 1
    assert order_of(world.db, order_id).status == OrderStatus.PAID
    assert order_events(world.db, order_id) == ["opened", "paid"]
    assert signing.verify(fields, secret=SECRET)


def test_the_payment_ledger_refuses_edits(world: World, cashier: SandboxCashier) -> None:
    order_id = checkout(world, held(world), cashier).order_id

    with pytest.raises(DBAPIError):
        world.db.execute(
            update(PaymentEvent).where(PaymentEvent.order_id == order_id).values(kind="x")
        )
        world.db.flush()
    world.db.rollback()
