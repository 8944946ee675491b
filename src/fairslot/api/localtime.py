"""Times leave the platform in the hospital's zone (they are UTC inside)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo


def local(value: datetime, tz: str) -> datetime:
    return value.astimezone(ZoneInfo(tz))


def local_or_none(value: datetime | None, tz: str) -> datetime | None:
    return value.astimezone(ZoneInfo(tz)) if value else None
