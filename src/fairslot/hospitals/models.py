from __future__ import annotations

from datetime import time

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Integer,
    String,
    Time,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from fairslot.allocation.states import AllocationMode
from fairslot.db.base import Base
from fairslot.db.types import str_enum
from fairslot.hospitals.kinds import DoctorTitle, SexRestriction

__all__ = ["Department", "Doctor", "DoctorTitle", "Hospital", "SexRestriction"]


class Hospital(Base):
    """A hospital and its release policy (times are wall-clock in the hospital's zone)."""

    __tablename__ = "hospitals"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    grade: Mapped[str] = mapped_column(String(32))
    city: Mapped[str] = mapped_column(String(100))
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    days_ahead: Mapped[int] = mapped_column(Integer, default=7)
    push_time: Mapped[time] = mapped_column(Time, default=time(0, 0))
    release_time: Mapped[time] = mapped_column(Time, default=time(0, 30))
    booking_close_minutes: Mapped[int] = mapped_column(Integer, default=30)
    api_key_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    # Intents for release draws open this long before the release (None: at the push time).
    intent_lead_minutes: Mapped[int | None] = mapped_column(Integer)
    # The release batch's window (None: the platform's ``batch_window_seconds``).
    batch_window_seconds: Mapped[int | None] = mapped_column(Integer)

    __table_args__ = (
        CheckConstraint("days_ahead >= 0 AND days_ahead <= 60", name="days_ahead_range"),
        CheckConstraint("booking_close_minutes >= 0", name="close_minutes_positive"),
    )


class Department(Base):
    __tablename__ = "departments"

    id: Mapped[int] = mapped_column(primary_key=True)
    hospital_id: Mapped[int] = mapped_column(ForeignKey("hospitals.id"), index=True)
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    specialty: Mapped[str] = mapped_column(String(64))
    sex_restriction: Mapped[SexRestriction] = mapped_column(
        str_enum(SexRestriction, "sex_restriction"), default=SexRestriction.ANY
    )
    min_age: Mapped[int | None] = mapped_column(Integer)
    max_age: Mapped[int | None] = mapped_column(Integer)
    # Scarce expert clinics are allocated by a release draw; ordinary ones first-come.
    allocation_mode: Mapped[AllocationMode] = mapped_column(
        str_enum(AllocationMode, "allocation_mode"),
        default=AllocationMode.FIRST_COME,
        server_default=AllocationMode.FIRST_COME.value,
    )
    # The hospital's choice over the platform's decision and the schedule's mode (None:
    # none); audited in ``allocation_decisions``. It cannot make a scarce clinic a race.
    mode_override: Mapped[AllocationMode | None] = mapped_column(
        str_enum(AllocationMode, "mode_override")
    )
    # The platform's latest verdict on the department's history (allocation/scarcity.py);
    # a scarce department configured first-come is allocated by a release batch.
    scarce: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    __table_args__ = (UniqueConstraint("hospital_id", "code"),)


class Doctor(Base):
    __tablename__ = "doctors"

    id: Mapped[int] = mapped_column(primary_key=True)
    hospital_id: Mapped[int] = mapped_column(ForeignKey("hospitals.id"), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(100))
    title: Mapped[DoctorTitle] = mapped_column(str_enum(DoctorTitle, "doctor_title"))

    __table_args__ = (UniqueConstraint("hospital_id", "code"),)
