"""Every query of payment orders."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from fairslot.db.versioned import compare_and_set
from fairslot.payments.models import PaymentEvent, PaymentOrder, PreauthEvent, PreauthOrder
from fairslot.payments.states import OrderStatus, PreauthStatus


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


def latest_refund(db: Session, *, booking_id: str) -> PaymentOrder | None:
    """The booking's latest order marked ``refund_due`` (paid after the hold had ended)."""
    return db.scalars(
        select(PaymentOrder)
        .where(
            PaymentOrder.booking_id == booking_id,
            PaymentOrder.status == OrderStatus.REFUND_DUE,
        )
        .order_by(PaymentOrder.settled_at.desc(), PaymentOrder.id)
        .limit(1)
    ).one_or_none()


def refunds_of_account(db: Session, *, account_id: int) -> list[PaymentOrder]:
    """The account's orders marked ``refund_due``, newest first."""
    return list(
        db.scalars(
            select(PaymentOrder)
            .where(
                PaymentOrder.account_id == account_id,
                PaymentOrder.status == OrderStatus.REFUND_DUE,
            )
            .order_by(PaymentOrder.settled_at.desc(), PaymentOrder.id)
            .limit(50)
        )
    )


def get_preauth(db: Session, order_id: str, *, fresh: bool = False) -> PreauthOrder | None:
    return db.scalars(
        select(PreauthOrder)
        .where(PreauthOrder.id == order_id)
        .execution_options(populate_existing=fresh)
    ).one_or_none()


def add_preauth(db: Session, order: PreauthOrder) -> PreauthOrder:
    db.add(order)
    db.flush()
    return order


def add_preauth_event(db: Session, event: PreauthEvent) -> None:
    db.add(event)


def preauth_events_of(db: Session, *, order_id: str) -> list[PreauthEvent]:
    return list(
        db.scalars(
            select(PreauthEvent).where(PreauthEvent.order_id == order_id).order_by(PreauthEvent.id)
        )
    )


def move_preauth(
    db: Session,
    *,
    order: PreauthOrder,
    expected: PreauthStatus,
    target: PreauthStatus,
    values: Mapping[str, Any],
) -> bool:
    """``UPDATE … WHERE id, version, status = expected``: True if this caller moved it."""
    return compare_and_set(db, row=order, expected=expected, values={"status": target, **values})


def strip_preauth_context(db: Session, *, before: datetime) -> int:
    """Clear the request context of pre-authorisation orders opened before ``before`` and
    never called back (a settled order lost it when it settled)."""
    result = db.execute(
        update(PreauthOrder)
        .where(PreauthOrder.created_at < before, PreauthOrder.status == PreauthStatus.PENDING)
        .values(context={})
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)
