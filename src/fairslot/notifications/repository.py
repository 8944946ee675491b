from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from fairslot.notifications.models import Audience, Notification


def channel_feed(db: Session, *, channel_id: int, after: int, limit: int) -> list[Notification]:
    return list(
        db.scalars(
            select(Notification)
            .where(
                Notification.audience == Audience.CHANNEL,
                Notification.channel_id == channel_id,
                Notification.id > after,
            )
            .order_by(Notification.id)
            .limit(limit)
        )
    )


def hospital_feed(db: Session, *, hospital_id: int, after: int, limit: int) -> list[Notification]:
    return list(
        db.scalars(
            select(Notification)
            .where(
                Notification.audience == Audience.HOSPITAL,
                Notification.hospital_id == hospital_id,
                Notification.id > after,
            )
            .order_by(Notification.id)
            .limit(limit)
        )
    )
