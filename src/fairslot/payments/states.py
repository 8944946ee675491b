"""The states of a payment order and the moves allowed between them (pure)."""

from __future__ import annotations

import enum


class OrderStatus(enum.StrEnum):
    PENDING = "pending"  # the patient was sent to the cashier
    PAID = "paid"  # the provider said paid and the booking was confirmed with it
    REFUND_DUE = "refund_due"  # paid, but the hold had lapsed: the money goes back
    CANCELLED = "cancelled"  # the patient left the cashier without paying


ORDER_TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    OrderStatus.PENDING: frozenset(
        {OrderStatus.PAID, OrderStatus.REFUND_DUE, OrderStatus.CANCELLED}
    ),
    OrderStatus.PAID: frozenset(),
    OrderStatus.REFUND_DUE: frozenset(),
    OrderStatus.CANCELLED: frozenset(),
}


def can_move(current: OrderStatus, target: OrderStatus) -> bool:
    return target in ORDER_TRANSITIONS[current]


class PreauthStatus(enum.StrEnum):
    """A pre-authorisation asked of a configured provider for a draw entry or a waitlist
    place (``preauth.py``)."""

    PENDING = "pending"  # the patient was sent to the provider to pre-authorise the fee
    ENTERED = "entered"  # authorised, and the entry it pays for was made with it
    RELEASED = "released"  # authorised, but the entry was refused: the hold on funds goes
    CANCELLED = "cancelled"  # the patient left the provider without authorising


PREAUTH_TRANSITIONS: dict[PreauthStatus, frozenset[PreauthStatus]] = {
    PreauthStatus.PENDING: frozenset(
        {PreauthStatus.ENTERED, PreauthStatus.RELEASED, PreauthStatus.CANCELLED}
    ),
    PreauthStatus.ENTERED: frozenset(),
    PreauthStatus.RELEASED: frozenset(),
    PreauthStatus.CANCELLED: frozenset(),
}


def can_move_preauth(current: PreauthStatus, target: PreauthStatus) -> bool:
    return target in PREAUTH_TRANSITIONS[current]
