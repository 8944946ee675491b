from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from fairslot.db.base import Base, UTCDateTime


class SignInCode(Base):
    """A one-time code sent by SMS. Only its keyed hash is stored; it is used once
    (``used_at``), expires (``expires_at``) and allows a few wrong guesses (``attempts``,
    counted by a compare-and-set update)."""

    __tablename__ = "signin_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    phone_hash: Mapped[str] = mapped_column(String(64))
    code_hash: Mapped[str] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_signin_codes_phone_created", "phone_hash", "created_at"),)


class PatientSession(Base):
    """A signed-in patient's page session: the cookie holds a random token, the table
    only its SHA-256 (a copy of the table signs nobody in)."""

    __tablename__ = "patient_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
