"""Writing outbox records for channels and hospitals (same transaction as the change)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from fairslot.notifications.models import Audience, Notification


def to_channel(
    db: Session,
    *,
    channel_id: int,
    kind: str,
    at: datetime,
    account_id: int | None = None,
    booking_id: str | None = None,
    payload: dict[str, Any] | None = None,
) -> None:
    db.add(
        Notification(
            audience=Audience.CHANNEL,
            channel_id=channel_id,
            account_id=account_id,
            booking_id=booking_id,
            kind=kind,
            payload=payload or {},
            created_at=at,
        )
    )


def to_hospital(
    db: Session,
    *,
    hospital_id: int,
    kind: str,
    at: datetime,
    booking_id: str | None = None,
    payload: dict[str, Any] | None = None,
) -> None:
    db.add(
        Notification(
            audience=Audience.HOSPITAL,
            hospital_id=hospital_id,
            booking_id=booking_id,
            kind=kind,
            payload=payload or {},
            created_at=at,
        )
    )
