"""What is shown about a channel, and what is asked to set one up. Never the key hash."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from fairslot.channels.models import ChannelKind


class ChannelCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=2, max_length=32, pattern=r"^[a-z0-9][a-z0-9_-]+$")
    name: str = Field(min_length=1, max_length=100)
    kind: ChannelKind
    reserved_share: Decimal = Field(Decimal(0), ge=0, le=Decimal("0.9"), decimal_places=3)
    reserve_return_minutes: int = Field(120, ge=0, le=7 * 24 * 60)


class ChannelView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    name: str
    kind: ChannelKind
    reserved_share: Decimal
    reserve_return_minutes: int
    active: bool
    created_at: datetime


class ChannelWithKey(BaseModel):
    """Returned once, when a channel is created or its key rotated."""

    channel: ChannelView
    api_key: str
