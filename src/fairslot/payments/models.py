from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, Numeric, String, text
from sqlalchemy.orm import Mapped, mapped_column

from fairslot.db.base import Base, UTCDateTime, new_guid
from fairslot.db.types import str_enum
from fairslot.payments.states import OrderStatus, PreauthStatus

_PENDING_SQL = text(f"status = '{OrderStatus.PENDING.value}'")


class PaymentOrder(Base):
    """One trip of a held booking to a cashier: the amount asked, the provider, and what
    the provider answered. Its id is the payment reference the booking is confirmed with.

    A held booking has at most one pending order (partial unique index), so a patient who
    opens the cashier twice pays into the same order, never two."""

    __tablename__ = "payment_orders"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_guid)
    booking_id: Mapped[str] = mapped_column(ForeignKey("bookings.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id"))
    provider: Mapped[str] = mapped_column(String(16))
    amount: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    status: Mapped[OrderStatus] = mapped_column(
        str_enum(OrderStatus, "payment_order_status"), default=OrderStatus.PENDING
    )
    version: Mapped[int] = mapped_column(Integer, default=0)
    # What the provider's callback said: who paid (the payment account the booking is
    # confirmed with) and its own reference of the payment (trade number).
    payer_reference: Mapped[str | None] = mapped_column(String(64))
    provider_reference: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        Index(
            "uq_payment_orders_pending_booking",
            "booking_id",
            unique=True,
            postgresql_where=_PENDING_SQL,
            sqlite_where=_PENDING_SQL,
        ),
    )


class PaymentEvent(Base):
    """The payment orders' ledger: ``opened``, then the one move out of ``pending`` (the
    order's new status), each with who answered and when. Append-only (database triggers
    refuse edits), written in the transaction of the change it records."""

    __tablename__ = "payment_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("payment_orders.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))  # "opened" or an OrderStatus value
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(64))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class PreauthOrder(Base):
    """One trip to a configured provider to pre-authorise a session's fee for a draw entry
    or a waitlist place (``preauth.py``). It keeps what the entry needs once the provider
    answers — whom, for which session, and the request's keyed identifiers (never raw) —
    so the provider's signed callback makes the entry the patient asked for, once."""

    __tablename__ = "preauth_orders"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_guid)
    purpose: Mapped[str] = mapped_column(String(16))  # "draw" or "waitlist"
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    session_id: Mapped[int] = mapped_column(ForeignKey("clinic_sessions.id"))
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id"))
    provider: Mapped[str] = mapped_column(String(16))
    amount: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    status: Mapped[PreauthStatus] = mapped_column(
        str_enum(PreauthStatus, "preauth_order_status"), default=PreauthStatus.PENDING
    )
    version: Mapped[int] = mapped_column(Integer, default=0)
    # The request that asked: keyed hashes and the masked address only (``context.py``).
    context: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    payer_reference: Mapped[str | None] = mapped_column(String(64))
    provider_reference: Mapped[str | None] = mapped_column(String(128))
    # The intent or waitlist entry made with the pre-authorisation.
    entry_id: Mapped[str | None] = mapped_column(String(36))
    refusal: Mapped[str | None] = mapped_column(String(64))  # why a release: the code
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class PreauthEvent(Base):
    """The pre-authorisations' ledger: ``opened``, then the one move out of ``pending``.
    Append-only, written in the transaction of the change it records."""

    __tablename__ = "preauth_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("preauth_orders.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(64))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
