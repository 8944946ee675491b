from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Time,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from fairslot.db.base import Base, UTCDateTime, new_guid
from fairslot.db.types import str_enum
from fairslot.schedules.states import Period, SessionStatus, SlotState


class ClinicSession(Base):
    """A doctor's session (date + period), split into numbered slots.

    ``release_at``, ``push_at`` and ``closes_at`` are computed from the hospital's policy
    when the session is imported (and recomputed when the policy changes), so the
    release gate is a plain comparison with the clock in every query.
    """

    __tablename__ = "clinic_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    hospital_id: Mapped[int] = mapped_column(ForeignKey("hospitals.id"))
    his_session_id: Mapped[str] = mapped_column(String(64))
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    doctor_id: Mapped[int] = mapped_column(ForeignKey("doctors.id"), index=True)
    session_date: Mapped[date] = mapped_column(Date)
    period: Mapped[Period] = mapped_column(str_enum(Period, "period"))
    local_start: Mapped[time] = mapped_column(Time)
    local_end: Mapped[time] = mapped_column(Time)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    push_at: Mapped[datetime] = mapped_column(UTCDateTime)
    release_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime)
    fee: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    capacity: Mapped[int] = mapped_column(Integer)
    status: Mapped[SessionStatus] = mapped_column(
        str_enum(SessionStatus, "session_status"), default=SessionStatus.ACTIVE
    )
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        UniqueConstraint("hospital_id", "his_session_id"),
        CheckConstraint("capacity >= 0", name="capacity_positive"),
        CheckConstraint("release_at <= closes_at", name="release_before_close"),
        Index("ix_clinic_sessions_department_date", "department_id", "session_date"),
        # the worker's due releases and draws, tonight's release fill, the scarcity history
        Index("ix_clinic_sessions_release_at", "release_at"),
    )


class Slot(Base):
    __tablename__ = "slots"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_guid)
    session_id: Mapped[int] = mapped_column(ForeignKey("clinic_sessions.id"))
    number: Mapped[int] = mapped_column(Integer)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    state: Mapped[SlotState] = mapped_column(
        str_enum(SlotState, "slot_state"), default=SlotState.OPEN
    )
    # Compare-and-set guard: every state change bumps it.
    version: Mapped[int] = mapped_column(Integer, default=1)
    hold_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reopen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set once the (clock-derived) release has been written to the ledger.
    release_logged: Mapped[bool] = mapped_column(default=False)
    reserved_channel_id: Mapped[int | None] = mapped_column(ForeignKey("channels.id"))
    reserved_until: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        UniqueConstraint("session_id", "number"),
        CheckConstraint("state <> 'cooling' OR reopen_at IS NOT NULL", name="cooling_has_reopen"),
        CheckConstraint("state <> 'held' OR hold_expires_at IS NOT NULL", name="held_has_expiry"),
        Index("ix_slots_session_state", "session_id", "state"),
    )
