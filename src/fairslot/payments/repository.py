"""Every query of payment orders."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fairslot.db.versioned import compare_and_set
from fairslot.payments.models import PaymentEvent, PaymentOrder
from fairslot.payments.states import OrderStatus


def get_order(db: Session, order_id: str, *, fresh: bool = False) -> PaymentOrder | None:
    """The order; ``fresh``: read again from the database even if this session holds it
    (after a lost compare-and-set, to answer with what the winner wrote)."""
    return db.scalars(
        select(PaymentOrder)
        .where(PaymentOrder.id == order_id)
        .execution_options(populate_existing=fresh)
    ).one_or_none()


def pending_order(db: Session, *, booking_id: str) -> PaymentOrder | None:
    return db.scalars(
        select(PaymentOrder).where(
            PaymentOrder.booking_id == booking_id, PaymentOrder.status == OrderStatus.PENDING
        )
    ).one_or_none()


def orders_of_booking(db: Session, *, booking_id: str) -> list[PaymentOrder]:
    return list(
        db.scalars(
            select(PaymentOrder)
            .where(PaymentOrder.booking_id == booking_id)
            .order_by(PaymentOrder.created_at, PaymentOrder.id)
        )
    )


def add_order(db: Session, order: PaymentOrder) -> PaymentOrder:
    db.add(order)
    db.flush()
    return order


def add_event(db: Session, event: PaymentEvent) -> None:
    db.add(event)


def events_of(db: Session, *, order_id: str) -> list[PaymentEvent]:
    return list(
        db.scalars(
            select(PaymentEvent).where(PaymentEvent.order_id == order_id).order_by(PaymentEvent.id)
        )
    )


def move(
    db: Session,
    *,
    order: PaymentOrder,
    expected: OrderStatus,
    target: OrderStatus,
    values: Mapping[str, Any],
) -> bool:
    """``UPDATE … WHERE id, version, status = expected``: True if this caller moved it."""
    return compare_and_set(db, row=order, expected=expected, values={"status": target, **values})
