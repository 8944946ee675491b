"""Every change of a payment order: one named function each, a compare-and-set on the
order and its ``payment_events`` row in the same transaction."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy.orm import Session

from fairslot.payments import repository as repo
from fairslot.payments.models import PaymentEvent, PaymentOrder
from fairslot.payments.states import OrderStatus, can_move


def open_order(
    db: Session,
    *,
    booking_id: str,
    account_id: int,
    channel_id: int,
    provider: str,
    amount: Decimal,
    now: datetime,
) -> PaymentOrder:
    order = repo.add_order(
        db,
        PaymentOrder(
            booking_id=booking_id,
            account_id=account_id,
            channel_id=channel_id,
            provider=provider,
            amount=amount,
            status=OrderStatus.PENDING,
            version=0,
            created_at=now,
        ),
    )
    repo.add_event(
        db,
        PaymentEvent(
            order_id=order.id,
            kind="opened",
            at=now,
            actor=f"account:{account_id}",
            data={"booking_id": booking_id, "amount": str(amount), "provider": provider},
        ),
    )
    return order


def settle(
    db: Session,
    *,
    order: PaymentOrder,
    target: OrderStatus,
    now: datetime,
    actor: str,
    payer_reference: str | None = None,
    provider_reference: str | None = None,
    reason: str | None = None,
) -> bool:
    """Move a pending order to ``target`` (paid, refund due, cancelled). False if another
    request moved it first: the caller answers with what that one did."""
    assert can_move(OrderStatus.PENDING, target), target
    values = {
        "payer_reference": payer_reference[:64] if payer_reference else None,
        "provider_reference": provider_reference[:128] if provider_reference else None,
        "settled_at": now,
    }
    if not repo.move(db, order=order, expected=OrderStatus.PENDING, target=target, values=values):
        return False
    data: dict[str, object] = {"trade_no": values["provider_reference"]}
    if reason:
        data["reason"] = reason
    repo.add_event(
        db, PaymentEvent(order_id=order.id, kind=target.value, at=now, actor=actor, data=data)
    )
    return True
