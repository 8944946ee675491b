from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Boolean, CheckConstraint, Integer, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from fairslot.db.base import Base, UTCDateTime
from fairslot.db.types import str_enum


class ChannelKind(enum.StrEnum):
    HOSPITAL_APP = "hospital_app"
    WECHAT = "wechat"
    ALIPAY = "alipay"
    THIRD_PARTY = "third_party"
    PHONE = "phone"
    WINDOW = "window"


class Channel(Base):
    """A booking channel. Its API key is stored only as a hash."""

    __tablename__ = "channels"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[ChannelKind] = mapped_column(str_enum(ChannelKind, "channel_kind"))
    api_key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    reserved_share: Mapped[Decimal] = mapped_column(Numeric(4, 3), default=Decimal(0))
    # Reserved slots not taken by this time before the session go back to the pool.
    reserve_return_minutes: Mapped[int] = mapped_column(Integer, default=120)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        CheckConstraint("reserved_share >= 0 AND reserved_share <= 0.9", name="share_range"),
    )
