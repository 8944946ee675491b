from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from fairslot.db.base import Base, UTCDateTime, new_guid
from fairslot.db.types import str_enum


class WaitStatus(enum.StrEnum):
    WAITING = "waiting"
    BOOKED = "booked"  # a returned slot was booked for this patient
    CANCELLED = "cancelled"  # the patient left the waitlist
    CLOSED = "closed"  # the session closed (or was withdrawn) before a slot came back


class WaitlistEntry(Base):
    """A patient waiting (候补) for a slot of a full session, with a pre-authorisation."""

    __tablename__ = "waitlist_entries"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_guid)
    session_id: Mapped[int] = mapped_column(ForeignKey("clinic_sessions.id"))
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id"))
    status: Mapped[WaitStatus] = mapped_column(
        str_enum(WaitStatus, "wait_status"), default=WaitStatus.WAITING
    )
    payment_account_hash: Mapped[str] = mapped_column(String(64))
    payment_account_masked: Mapped[str] = mapped_column(String(64))
    payment_reference: Mapped[str] = mapped_column(String(128))
    booking_id: Mapped[str | None] = mapped_column(String(36))
    # Keyed hashes of the end user's identifiers (``context.py``), never the raw values.
    device_key: Mapped[str | None] = mapped_column(String(128))
    ip_key: Mapped[str | None] = mapped_column(String(64))
    ip_label: Mapped[str | None] = mapped_column(String(64))  # masked: 203.0.113.x
    wifi_key: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        # one waiting entry per patient per session
        Index(
            "uq_waitlist_waiting_patient_session",
            "session_id",
            "patient_id",
            unique=True,
            postgresql_where=text("status = 'waiting'"),
            sqlite_where=text("status = 'waiting'"),
        ),
        Index("ix_waitlist_session_status", "session_id", "status"),
    )
