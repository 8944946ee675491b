"""Paying for a held booking: send the patient to the provider's cashier, then settle the
order from the provider's signed callback.

How a page uses it (the edge owns the transaction, as everywhere):

1. ``checkout(db, booking_id=…, account_id=…, channel_id=…, provider=…, return_url=…,
   now=…)`` → :class:`Checkout` (the order and the URL to redirect the patient to).
   Opening the cashier again for the same hold reuses its pending order.
2. The provider (or the sandbox cashier's buttons) posts a signed callback to
   ``/pay/callback/{provider}`` → ``settle(db, fields=…, provider=…, now=…,
   protector=…)`` → :class:`Settlement`.

A "paid" callback confirms the booking through ``bookings/service.py::confirm``, the path
of the channel API's confirmation (payment account: the provider's ``payer``; payment
reference: the order id). Settling is idempotent: the order moves out of ``pending`` by one
compare-and-set, so a repeated or concurrent callback confirms once and is answered with
what the first one did. A paid callback for a hold that has lapsed (or was cancelled, or
whose payer is blacklisted) marks the order ``refund_due`` and is refused with a code that
says so; the mark stands (``keep_changes``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy.orm import Session

from fairslot.blacklist import gate as blacklist
from fairslot.bookings import repository as bookings_repo
from fairslot.bookings import service as bookings
from fairslot.bookings.states import BookingStatus
from fairslot.context import RequestContext
from fairslot.crypto import Protector
from fairslot.errors import DomainError
from fairslot.payments import repository as repo
from fairslot.payments import transitions
from fairslot.payments.callback_checks import answered_order
from fairslot.payments.errors import (
    HoldLapsed,
    NotPayable,
    OrderClosed,
    PaymentOrderNotFound,
)
from fairslot.payments.models import PaymentOrder
from fairslot.payments.providers import Callback, PaymentProvider
from fairslot.payments.states import OrderStatus


@dataclass(frozen=True)
class Checkout:
    order_id: str
    amount: Decimal
    redirect_url: str


@dataclass(frozen=True)
class Settlement:
    order_id: str
    status: OrderStatus
    booking_id: str
    booking_status: BookingStatus
    first: bool  # False: a repeated callback, answered with what the first one did
    return_url: str | None = None


def checkout(
    db: Session,
    *,
    booking_id: str,
    account_id: int,
    channel_id: int,
    provider: PaymentProvider,
    return_url: str,
    now: datetime,
) -> Checkout:
    """The order for paying the account's held booking (its session's fee), and where to
    send the patient to pay it."""
    booking = bookings.get_booking(
        db, booking_id=booking_id, account_id=account_id, channel_id=channel_id
    )
    if booking.status != BookingStatus.HELD:
        raise NotPayable(
            f"This booking is {booking.status.value}; only a hold can be paid.",
            booking_status=booking.status.value,
        )
    if booking.expires_at <= now:
        raise HoldLapsed(
            "The hold expired before payment; hold the slot again if it is still free."
        )
    order = repo.pending_order(db, booking_id=booking.id)
    if order is not None and order.provider != provider.name:
        # The platform's provider changed since this order was opened: start afresh.
        transitions.settle(
            db,
            order=order,
            target=OrderStatus.CANCELLED,
            now=now,
            actor="platform",
            reason="provider_changed",
        )
        order = None
    if order is None:
        session = bookings_repo.get_session(db, booking.session_id)
        assert session is not None  # a foreign key guarantees it
        order = transitions.open_order(
            db,
            booking_id=booking.id,
            account_id=account_id,
            channel_id=channel_id,
            provider=provider.name,
            amount=session.fee,
            now=now,
        )
    return Checkout(
        order_id=order.id,
        amount=order.amount,
        redirect_url=provider.redirect_url(
            order_id=order.id, amount=order.amount, return_url=return_url
        ),
    )


def settle(
    db: Session,
    *,
    fields: dict[str, str],
    provider: PaymentProvider,
    now: datetime,
    protector: Protector,
) -> Settlement:
    """Settle an order from its provider's signed callback (see the module's docstring)."""
    callback = provider.read_callback(fields)  # SignatureInvalid unless the provider's
    order = answered_order(
        repo.get_order(db, callback.order_id),
        callback=callback,
        provider=provider.name,
        missing="No payment order has this id.",
    )
    if order.status != OrderStatus.PENDING:
        return _answer_again(db, order=order, callback=callback)
    if callback.outcome == "cancelled":
        return _close(db, order=order, callback=callback, target=OrderStatus.CANCELLED, now=now)
    return _pay(db, order=order, callback=callback, now=now, protector=protector)


def _pay(
    db: Session, *, order: PaymentOrder, callback: Callback, now: datetime, protector: Protector
) -> Settlement:
    booking = bookings_repo.get_booking(db, order.booking_id)
    assert booking is not None  # a foreign key guarantees it
    payer_hash = protector.keyed_hash(callback.payer.strip(), purpose="payment_account")
    refusal: DomainError | None = None
    if booking.status != BookingStatus.HELD or booking.expires_at <= now:
        refusal = HoldLapsed(
            "The payment arrived after the hold had ended; it will be refunded. "
            "Hold the slot again if it is still free.",
        )
    else:
        try:
            blacklist.check(
                db,
                ids=blacklist.Identifiers(
                    account_id=order.account_id, payment_account_hash=payer_hash
                ),
                now=now,
                protector=protector,
            )
        except blacklist.RequestBlocked as blocked:
            refusal = blocked
    if refusal is not None:
        settled = _close(
            db,
            order=order,
            callback=callback,
            target=OrderStatus.REFUND_DUE,
            now=now,
            reason=refusal.code,
        )
        if not settled.first:
            return settled  # another callback settled the order first: its answer stands
        refusal.keep_changes = True  # the refund mark stands; nothing else was done
        refusal.extra |= {"order_id": order.id, "order_status": OrderStatus.REFUND_DUE.value}
        raise refusal
    # Claim the order first: of two callbacks at once only one goes on to confirm.
    if not transitions.settle(
        db,
        order=order,
        target=OrderStatus.PAID,
        now=now,
        actor=f"payment:{order.provider}",
        payer_reference=callback.payer,
        provider_reference=callback.trade_no,
    ):
        return _answer_again(db, order=order, callback=callback)
    # Same path as POST /v1/bookings/{id}/confirm. Should it refuse, the whole transaction
    # (the order's claim included) rolls back and the provider's retry is settled afresh.
    confirmed = bookings.confirm(
        db,
        booking_id=order.booking_id,
        account_id=order.account_id,
        payment_account=callback.payer,
        payment_reference=order.id,
        now=now,
        ctx=RequestContext(
            actor=f"payment:{order.provider}",
            channel_id=order.channel_id,
            account_id=order.account_id,
            payment_account_hash=payer_hash,
        ),
        protector=protector,
        known=booking,
        payment_account_hash=payer_hash,
    )
    return Settlement(
        order_id=order.id,
        status=OrderStatus.PAID,
        booking_id=confirmed.id,
        booking_status=BookingStatus.BOOKED,
        first=True,
        return_url=callback.return_url,
    )


def _close(
    db: Session,
    *,
    order: PaymentOrder,
    callback: Callback,
    target: OrderStatus,
    now: datetime,
    reason: str | None = None,
) -> Settlement:
    if not transitions.settle(
        db,
        order=order,
        target=target,
        now=now,
        actor=f"payment:{order.provider}",
        payer_reference=callback.payer,
        provider_reference=callback.trade_no,
        reason=reason,
    ):
        return _answer_again(db, order=order, callback=callback)
    return _settlement(db, order=order, first=True, return_url=callback.return_url)


def _answer_again(db: Session, *, order: PaymentOrder, callback: Callback) -> Settlement:
    """A callback for an order already settled (by this provider's earlier or concurrent
    callback): answered with what was done, never done twice. A "paid" arriving for an
    order closed otherwise is refused, so the provider refunds it."""
    current = repo.get_order(db, order.id, fresh=True)
    assert current is not None
    if callback.outcome == "paid" and current.status == OrderStatus.REFUND_DUE:
        raise HoldLapsed(
            "The payment arrived after the hold had ended; it will be refunded.",
            order_id=current.id,
            order_status=current.status.value,
        )
    if callback.outcome == "paid" and current.status == OrderStatus.CANCELLED:
        raise OrderClosed(
            "This payment order was cancelled; the payment will be refunded.",
            order_id=current.id,
            order_status=current.status.value,
        )
    return _settlement(db, order=current, first=False, return_url=callback.return_url)


def _settlement(
    db: Session, *, order: PaymentOrder, first: bool, return_url: str | None
) -> Settlement:
    booking = bookings_repo.get_booking(db, order.booking_id)
    assert booking is not None
    return Settlement(
        order_id=order.id,
        status=order.status,
        booking_id=booking.id,
        booking_status=booking.status,
        first=first,
        return_url=return_url,
    )


def get_order(db: Session, *, order_id: str) -> PaymentOrder:
    order = repo.get_order(db, order_id)
    if order is None:
        raise PaymentOrderNotFound("No payment order has this id.")
    return order


def abandon(db: Session, *, booking_id: str, now: datetime, actor: str) -> None:
    """The patient gave the hold up: its unpaid order is closed (a payment that still
    arrives for it is then refused and refunded, as for a lapsed hold)."""
    order = repo.pending_order(db, booking_id=booking_id)
    if order is not None:
        transitions.settle(
            db,
            order=order,
            target=OrderStatus.CANCELLED,
            now=now,
            actor=actor,
            reason="hold_released",
        )


@dataclass(frozen=True)
class Refund:
    """Money the platform owes back: an order paid after its hold had ended (or whose
    payer was blocked, or whose order was closed). The platform keeps no money and runs
    no refund of its own: the order is marked ``refund_due`` and the provider was told so
    in the refusal of its callback; the provider returns the money to where it came from."""

    order_id: str
    booking_id: str
    amount: Decimal
    provider: str
    marked_at: datetime | None


def _refund(order: PaymentOrder) -> Refund:
    return Refund(
        order_id=order.id,
        booking_id=order.booking_id,
        amount=order.amount,
        provider=order.provider,
        marked_at=order.settled_at,
    )


def refund_of_booking(db: Session, *, booking_id: str) -> Refund | None:
    order = repo.latest_refund(db, booking_id=booking_id)
    return _refund(order) if order is not None else None


def refunds_of_account(db: Session, *, account_id: int) -> dict[str, Refund]:
    """The account's refunds due, by booking."""
    found: dict[str, Refund] = {}
    for order in repo.refunds_of_account(db, account_id=account_id):
        found.setdefault(order.booking_id, _refund(order))
    return found
