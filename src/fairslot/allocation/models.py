from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from fairslot.allocation import shuffle
from fairslot.allocation.states import DrawStatus, IntentStatus
from fairslot.db.base import Base, UTCDateTime, new_guid
from fairslot.db.types import str_enum
from fairslot.hospitals.kinds import DoctorTitle


class Draw(Base):
    """The release draw of one department-day (all its draw-mode sessions release together).

    ``seed_commitment`` (SHA-256 of the seed) is published while intents are taken; the
    seed itself only after the draw, so anyone can re-run it and check the result.
    ``algorithm`` is fixed with the commitment and the draw is run, and re-run, with it.
    """

    __tablename__ = "draws"

    id: Mapped[int] = mapped_column(primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    session_date: Mapped[date] = mapped_column(Date)
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)  # = the sessions' release time
    status: Mapped[DrawStatus] = mapped_column(
        str_enum(DrawStatus, "draw_status"), default=DrawStatus.OPEN
    )
    seed_commitment: Mapped[str] = mapped_column(String(64))
    seed_encrypted: Mapped[str] = mapped_column(String(255))  # kept secret until drawn
    seed: Mapped[str | None] = mapped_column(String(64))  # revealed after the draw
    inputs_digest: Mapped[str | None] = mapped_column(String(64))
    # The shuffle (shuffle.py). Rows from before it was recorded used the first one.
    algorithm: Mapped[str] = mapped_column(
        String(40), default=shuffle.CURRENT, server_default=shuffle.V1
    )
    result: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    drawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __table_args__ = (UniqueConstraint("department_id", "session_date"),)


class Intent(Base):
    """One real person's one chance in a draw, with a payment pre-authorisation."""

    __tablename__ = "intents"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_guid)
    draw_id: Mapped[int] = mapped_column(ForeignKey("draws.id"))
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id"))
    # What the patient will accept: one session, or any doctor of a title that day.
    session_id: Mapped[int | None] = mapped_column(ForeignKey("clinic_sessions.id"))
    title: Mapped[DoctorTitle | None] = mapped_column(str_enum(DoctorTitle, "intent_title"))
    status: Mapped[IntentStatus] = mapped_column(
        str_enum(IntentStatus, "intent_status"), default=IntentStatus.REGISTERED
    )
    payment_account_hash: Mapped[str] = mapped_column(String(64))
    payment_account_masked: Mapped[str] = mapped_column(String(64))
    payment_reference: Mapped[str] = mapped_column(String(128))
    booking_id: Mapped[str | None] = mapped_column(String(36))
    reason: Mapped[str | None] = mapped_column(String(64))
    device_id: Mapped[str | None] = mapped_column(String(128))
    ip: Mapped[str | None] = mapped_column(String(64))
    wifi_id: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    # One person, one chance: parallel intents through other accounts or channels collapse.
    __table_args__ = (UniqueConstraint("draw_id", "patient_id"),)
