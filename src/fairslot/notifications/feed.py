"""An account's own notifications on its channel, as the patient pages show them: draw
results, waitlist bookings and closures, withdrawals and cancellations by the hospital.

They are the same outbox records a channel program reads from its feed
(``GET /v1/notifications``), filtered to the account; the account's read mark
(``models.py::ReadMark``) splits them into read and unread.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from fairslot.notifications import repository as repo

FEED_SIZE = 50


@dataclass(frozen=True)
class FeedItem:
    id: int
    kind: str
    at: datetime  # UTC: the pages show it in the hospital's zone
    booking_id: str | None
    payload: dict[str, Any]
    unread: bool


@dataclass(frozen=True)
class Feed:
    items: list[FeedItem]
    unread: int


def unread_count(db: Session, *, channel_id: int, account_id: int) -> int:
    after = repo.last_read(db, channel_id=channel_id, account_id=account_id)
    return repo.count_after(db, channel_id=channel_id, account_id=account_id, after=after)


def account_feed(db: Session, *, channel_id: int, account_id: int, limit: int = FEED_SIZE) -> Feed:
    """The newest ``limit`` notifications, each marked unread if after the read mark."""
    after = repo.last_read(db, channel_id=channel_id, account_id=account_id)
    found = repo.account_feed(db, channel_id=channel_id, account_id=account_id, limit=limit)
    items = [
        FeedItem(
            id=n.id,
            kind=n.kind,
            at=n.created_at,
            booking_id=n.booking_id,
            payload=dict(n.payload or {}),
            unread=n.id > after,
        )
        for n in found
    ]
    unread = repo.count_after(db, channel_id=channel_id, account_id=account_id, after=after)
    return Feed(items=items, unread=unread)


def mark_read(db: Session, *, channel_id: int, account_id: int, up_to: int, now: datetime) -> None:
    """The account has seen everything up to ``up_to`` (the newest it was shown)."""
    if up_to > 0:
        repo.advance_mark(db, channel_id=channel_id, account_id=account_id, up_to=up_to, now=now)
