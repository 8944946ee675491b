from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from fairslot.db.base import Base, UTCDateTime
from fairslot.db.types import str_enum
from fairslot.patients.identity import Sex


class Patient(Base):
    """A real person. The ID number is stored encrypted and found by its keyed hash; the
    name is stored encrypted, with a masked label (张*明) for every screen that needs only
    to tell people apart. Nothing links patients by name, so the name has no keyed hash."""

    __tablename__ = "patients"

    id: Mapped[int] = mapped_column(primary_key=True)
    name_encrypted: Mapped[str] = mapped_column(String(512))
    name_masked: Mapped[str] = mapped_column(String(100))
    id_hash: Mapped[str] = mapped_column(String(64), unique=True)
    id_encrypted: Mapped[str] = mapped_column(String(255))
    id_last4: Mapped[str] = mapped_column(String(4))
    sex: Mapped[Sex] = mapped_column(str_enum(Sex, "sex"))
    birth_date: Mapped[date] = mapped_column(Date)
    phone_hash: Mapped[str] = mapped_column(String(64), index=True)
    phone_encrypted: Mapped[str] = mapped_column(String(255))
    insurance_encrypted: Mapped[str | None] = mapped_column(String(255))
    # Bumped at the start of every booking decision: a row lock that serialises one
    # patient's concurrent requests, so per-patient limits are counted consistently.
    booking_guard: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Account(Base):
    """A login (by phone) that books for a few bound patients."""

    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    phone_hash: Mapped[str] = mapped_column(String(64))
    phone_encrypted: Mapped[str] = mapped_column(String(255))
    # 1..max_accounts_per_phone; the unique pair makes the per-phone limit a constraint.
    phone_position: Mapped[int] = mapped_column(Integer)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id"))
    external_ref: Mapped[str | None] = mapped_column(String(128))
    guard: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (UniqueConstraint("phone_hash", "phone_position"),)


class Binding(Base):
    """An account may book for a patient it is bound to (at most N per account)."""

    __tablename__ = "bindings"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    relation: Mapped[str] = mapped_column(String(32), default="self")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (UniqueConstraint("account_id", "patient_id"),)
