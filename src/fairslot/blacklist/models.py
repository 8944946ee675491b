from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from fairslot.db.base import Base, UTCDateTime
from fairslot.db.types import str_enum


class Scope(enum.StrEnum):
    PATIENT = "patient"  # by resident ID (keyed hash)
    PHONE = "phone"
    ACCOUNT = "account"
    DEVICE = "device"
    NETWORK = "network"  # an IP address or a Wi-Fi id
    PAYMENT = "payment"  # a payment account


class BlacklistEntry(Base):
    """A blocked identifier. Personal data is stored only as a keyed hash.

    An entry is lifted, never deleted: the history of who was blocked, why, by whom and
    who lifted it after an in-person appeal stays readable.
    """

    __tablename__ = "blacklist_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[Scope] = mapped_column(str_enum(Scope, "blacklist_scope"))
    key_hash: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(64))  # masked, for people reading the list
    reason: Mapped[str] = mapped_column(String(500))
    case_ref: Mapped[str | None] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # None: permanent
    lifted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lifted_by: Mapped[str | None] = mapped_column(String(64))
    lift_note: Mapped[str | None] = mapped_column(String(500))

    __table_args__ = (
        Index(
            "uq_blacklist_active_scope_key",
            "scope",
            "key_hash",
            unique=True,
            postgresql_where=text("lifted_at IS NULL"),
            sqlite_where=text("lifted_at IS NULL"),
        ),
    )
