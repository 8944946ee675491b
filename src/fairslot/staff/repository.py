"""Every query on staff accounts, tokens and the audit log."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from fairslot.staff.models import StaffAction, StaffToken, StaffUser


def by_username(db: Session, username: str) -> StaffUser | None:
    return db.scalars(select(StaffUser).where(StaffUser.username == username)).first()


def get(db: Session, staff_id: int) -> StaffUser | None:
    return db.get(StaffUser, staff_id)


def listing(db: Session) -> list[StaffUser]:
    return list(db.scalars(select(StaffUser).order_by(StaffUser.username)))


def live_token(db: Session, *, token_hash: str, now: datetime) -> StaffToken | None:
    return db.scalars(
        select(StaffToken).where(
            StaffToken.token_hash == token_hash,
            StaffToken.revoked_at.is_(None),
            StaffToken.expires_at > now,
        )
    ).first()


def revoke_tokens(db: Session, *, staff_id: int, now: datetime) -> int:
    result = db.execute(
        update(StaffToken)
        .where(StaffToken.staff_id == staff_id, StaffToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def revoke_token(db: Session, *, token_hash: str, now: datetime) -> None:
    db.execute(
        update(StaffToken)
        .where(StaffToken.token_hash == token_hash, StaffToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )


def actions(
    db: Session,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    target_kind: str | None = None,
    target_id: str | None = None,
    actor: str | None = None,
    before_id: int | None = None,
    limit: int = 200,
) -> list[StaffAction]:
    """Newest first; the next page starts ``before_id`` the last one seen."""
    query = select(StaffAction)
    if before_id is not None:
        query = query.where(StaffAction.id < before_id)
    if since is not None:
        query = query.where(StaffAction.at >= since)
    if until is not None:
        query = query.where(StaffAction.at < until)
    if target_kind is not None:
        query = query.where(StaffAction.target_kind == target_kind)
    if target_id is not None:
        query = query.where(StaffAction.target_id == target_id)
    if actor is not None:
        query = query.where(StaffAction.actor == actor)
    return list(db.scalars(query.order_by(StaffAction.id.desc()).limit(limit)))
