from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from fairslot.db.base import Base, UTCDateTime
from fairslot.db.types import str_enum
from fairslot.ledger.events import EventKind


class SlotEvent(Base):
    """One append-only entry in a slot's history (database triggers refuse edits)."""

    __tablename__ = "slot_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    slot_id: Mapped[str] = mapped_column(ForeignKey("slots.id"))
    kind: Mapped[EventKind] = mapped_column(str_enum(EventKind, "event_kind"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(64))
    booking_id: Mapped[str | None] = mapped_column(String(36), index=True)
    patient_key: Mapped[str | None] = mapped_column(String(64), index=True)
    account_id: Mapped[int | None] = mapped_column()
    channel_id: Mapped[int | None] = mapped_column()
    # Keyed hashes of the end user's identifiers (``context.py``), never the raw values.
    device_key: Mapped[str | None] = mapped_column(String(128))
    ip_key: Mapped[str | None] = mapped_column(String(64))
    ip_label: Mapped[str | None] = mapped_column(String(64))  # masked: 203.0.113.x
    wifi_key: Mapped[str | None] = mapped_column(String(128))
    payment_account_hash: Mapped[str | None] = mapped_column(String(64))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    __table_args__ = (
        Index("ix_slot_events_slot_id", "slot_id", "id"),
        # The daily batch's transfer rule reads the window's cancellations (and holds and
        # bookings) by kind and time.
        Index("ix_slot_events_kind_at", "kind", "at"),
    )
