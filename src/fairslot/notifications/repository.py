from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from fairslot.bookings.models import Booking
from fairslot.hospitals.models import Hospital
from fairslot.notifications.models import Audience, Notification, ReadMark
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


def account_feed(
    db: Session, *, channel_id: int, account_id: int, limit: int
) -> list[Notification]:
    """An account's own notifications on a channel, newest first."""
    return list(
        db.scalars(
            select(Notification)
            .where(
                Notification.audience == Audience.CHANNEL,
                Notification.channel_id == channel_id,
                Notification.account_id == account_id,
            )
            .order_by(Notification.id.desc())
            .limit(limit)
        )
    )


def last_read(db: Session, *, channel_id: int, account_id: int) -> int:
    found = db.scalar(
        select(ReadMark.last_read_id).where(
            ReadMark.account_id == account_id, ReadMark.channel_id == channel_id
        )
    )
    return int(found or 0)


def count_after(db: Session, *, channel_id: int, account_id: int, after: int) -> int:
    return int(
        db.scalar(
            select(func.count())
            .select_from(Notification)
            .where(
                Notification.audience == Audience.CHANNEL,
                Notification.channel_id == channel_id,
                Notification.account_id == account_id,
                Notification.id > after,
            )
        )
        or 0
    )


def advance_mark(
    db: Session, *, channel_id: int, account_id: int, up_to: int, now: datetime
) -> None:
    """Move the read mark forward to ``up_to`` (never back: two tabs may race)."""
    result = db.execute(
        update(ReadMark)
        .where(
            ReadMark.account_id == account_id,
            ReadMark.channel_id == channel_id,
            ReadMark.last_read_id < up_to,
        )
        .values(last_read_id=up_to, read_at=now)
        .execution_options(synchronize_session=False)
    )
    moved = int(result.rowcount)  # type: ignore[attr-defined]
    if moved or last_read(db, channel_id=channel_id, account_id=account_id) >= up_to:
        return
    try:
        with db.begin_nested():
            db.add(
                ReadMark(
                    account_id=account_id, channel_id=channel_id, last_read_id=up_to, read_at=now
                )
            )
            db.flush()
    except IntegrityError:
        # A parallel first read made the row: move it forward instead.
        advance_mark(db, channel_id=channel_id, account_id=account_id, up_to=up_to, now=now)
