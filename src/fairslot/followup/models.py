from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from fairslot.db.base import Base, UTCDateTime
from fairslot.db.types import str_enum
from fairslot.followup.states import CallOutcome, CallReason, CallStatus


class CallTask(Base):
    """One follow-up call to a patient about a booking.

    ``dedupe_key`` makes task creation idempotent: ``sample:<booking id>`` for the random
    sample, ``case:<case id>:patient:<patient id>`` for a reviewer's request.
    """

    __tablename__ = "call_tasks"

    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(96), unique=True)
    reason: Mapped[CallReason] = mapped_column(str_enum(CallReason, "call_reason"))
    status: Mapped[CallStatus] = mapped_column(str_enum(CallStatus, "call_status"))
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    booking_id: Mapped[str | None] = mapped_column(ForeignKey("bookings.id"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    question: Mapped[str | None] = mapped_column(String(500))  # what the reviewer wants asked
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    assigned_to: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[CallOutcome | None] = mapped_column(str_enum(CallOutcome, "call_outcome"))
    note: Mapped[str | None] = mapped_column(String(1000))
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_call_tasks_status_created", "status", "created_at"),)


class SampleDay(Base):
    """A day whose follow-up sample the worker drew: the unique day is the claim, so two
    workers sampling the same day at the same moment cannot both add their draws (the
    second one's commit fails and it finds the day taken when it retries)."""

    __tablename__ = "call_sample_days"

    day: Mapped[str] = mapped_column(String(10), primary_key=True)  # ISO date, local
    drawn_at: Mapped[datetime] = mapped_column(UTCDateTime)
