"""What every provider callback must match before it may settle anything: an order of ours,
sent to the provider that answered, for the amount it was sent for. Pure: no I/O.

Payment orders (``service.settle``) and pre-authorisations (``preauth_orders.settle``) check
the same three things, in the same order, with the same errors.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Protocol, TypeVar

from fairslot.payments.errors import AmountMismatch, PaymentOrderNotFound, SignatureInvalid
from fairslot.payments.providers import Callback


class SentOrder(Protocol):
    @property
    def provider(self) -> str: ...

    @property
    def amount(self) -> Decimal: ...


Order = TypeVar("Order", bound=SentOrder)


def answered_order(
    order: Order | None, *, callback: Callback, provider: str, missing: str
) -> Order:
    """``order`` when ``callback`` may settle it; else the refusal (nothing changes: a
    tampered amount must not settle, nor close, the order)."""
    if order is None:
        raise PaymentOrderNotFound(missing)
    if order.provider != provider:
        raise SignatureInvalid("This order was not sent to the provider that answered.")
    if callback.amount != order.amount:
        raise AmountMismatch(
            f"The callback's amount {callback.amount} is not the order's {order.amount}.",
        )
    return order
