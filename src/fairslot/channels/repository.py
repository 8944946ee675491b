"""Every channel query."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fairslot.channels.models import Channel


def by_key_hash(db: Session, key_hash: str) -> Channel | None:
    return db.scalars(select(Channel).where(Channel.api_key_hash == key_hash)).one_or_none()


def by_code(db: Session, code: str) -> Channel | None:
    return db.scalars(select(Channel).where(Channel.code == code)).one_or_none()


def list_active_reserving(db: Session) -> list[Channel]:
    """Active channels that hold back a share of each session's slots, by code."""
    return list(
        db.scalars(
            select(Channel)
            .where(Channel.active.is_(True), Channel.reserved_share > 0)
            .order_by(Channel.code)
        )
    )


def total_active_reserved_share(db: Session) -> Decimal:
    total = db.scalar(
        select(func.coalesce(func.sum(Channel.reserved_share), 0)).where(Channel.active.is_(True))
    )
    return Decimal(str(total))


def list_channels(db: Session, *, include_inactive: bool = False) -> list[Channel]:
    stmt = select(Channel).order_by(Channel.code)
    if not include_inactive:
        stmt = stmt.where(Channel.active.is_(True))
    return list(db.scalars(stmt))
