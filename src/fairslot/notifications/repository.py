from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from fairslot.bookings.models import Booking
from fairslot.hospitals.models import Hospital
from fairslot.notifications.models import Audience, Notification
from fairslot.schedules.models import ClinicSession


def channel_feed(
    db: Session, *, channel_id: int, after: int, limit: int
) -> list[tuple[Notification, str | None]]:
    """The channel's notifications after ``after``, each with the time zone of its
    booking's hospital (``None`` for a notification about no booking, e.g. a lost draw)."""
    return [
        (notification, zone)
        for notification, zone in db.execute(
            select(Notification, Hospital.timezone)
            .outerjoin(Booking, Booking.id == Notification.booking_id)
            .outerjoin(ClinicSession, ClinicSession.id == Booking.session_id)
            .outerjoin(Hospital, Hospital.id == ClinicSession.hospital_id)
            .where(
                Notification.audience == Audience.CHANNEL,
                Notification.channel_id == channel_id,
                Notification.id > after,
            )
            .order_by(Notification.id)
            .limit(limit)
        )
    ]


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
