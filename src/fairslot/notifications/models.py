from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from fairslot.db.base import Base, UTCDateTime
from fairslot.db.types import str_enum


class Audience(enum.StrEnum):
    CHANNEL = "channel"  # read by a channel (to tell its patient)
    HOSPITAL = "hospital"  # read by the hospital's system (carry the booking to the source)


class Notification(Base):
    """An outbox record, written in the same transaction as the change it reports.

    Channels and hospitals read their feed by id (``after=``), so nothing is lost if a
    reader is down: it resumes from the last id it saw.
    """

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    audience: Mapped[Audience] = mapped_column(str_enum(Audience, "audience"))
    channel_id: Mapped[int | None] = mapped_column(ForeignKey("channels.id"))
    hospital_id: Mapped[int | None] = mapped_column(ForeignKey("hospitals.id"))
    account_id: Mapped[int | None] = mapped_column()
    booking_id: Mapped[str | None] = mapped_column(String(36))
    kind: Mapped[str] = mapped_column(String(48))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        Index("ix_notifications_channel_feed", "audience", "channel_id", "id"),
        Index("ix_notifications_hospital_feed", "audience", "hospital_id", "id"),
        # An account's own feed on a channel (the patient pages' notifications page).
        Index("ix_notifications_account_feed", "audience", "channel_id", "account_id", "id"),
    )


class ReadMark(Base):
    """How far an account has read its notifications on a channel: the newest id it was
    shown. Everything after it is unread (the pages' header count). A reader's cursor,
    not a state of anything it reports: it only moves forward (``repository.py``)."""

    __tablename__ = "notification_reads"

    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id"), primary_key=True)
    last_read_id: Mapped[int] = mapped_column(Integer, default=0)
    read_at: Mapped[datetime] = mapped_column(UTCDateTime)
