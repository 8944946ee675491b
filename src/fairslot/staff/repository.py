"""Every query on staff accounts, tokens and the audit log."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from fairslot.staff.models import StaffAction, StaffToken, StaffUser
from fairslot.staff.roles import Role, parse_roles


def by_username(db: Session, username: str) -> StaffUser | None:
    return db.scalars(select(StaffUser).where(StaffUser.username == username)).first()


def get(db: Session, staff_id: int) -> StaffUser | None:
    return db.get(StaffUser, staff_id)


def listing(db: Session) -> list[StaffUser]:
    return list(db.scalars(select(StaffUser).order_by(StaffUser.username)))


def lock_active_it_admins(db: Session) -> list[StaffUser]:
    """The active IT admins, their rows locked in id order (PostgreSQL; SQLite's writers
    are serialised at BEGIN): two admins removing each other at once are serialised, and
    the second sees the first's change."""
    candidates = db.scalars(
        select(StaffUser)
        .where(
            StaffUser.active.is_(True),
            StaffUser.roles.contains(Role.IT_ADMIN.value, autoescape=True),
        )
        .order_by(StaffUser.id)
        .with_for_update()
        # Rows this session already holds are read again: the lock may have waited for
        # another admin's change to them.
        .execution_options(populate_existing=True)
    )
    return [user for user in candidates if Role.IT_ADMIN in parse_roles(user.roles)]


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
    action: str | None = None,
    text: str | None = None,
    before_id: int | None = None,
    after_id: int | None = None,
    limit: int = 200,
) -> list[StaffAction]:
    """Newest first; the next (older) page starts ``before_id`` the last one seen, the
    previous (newer) page ends ``after_id`` the first one seen.

    ``action`` ending in a dot is a family (``"staff."``: every ``staff.*`` action);
    ``text`` is looked for in the reason, in any letter case.
    """
    query = select(StaffAction)
    if before_id is not None:
        query = query.where(StaffAction.id < before_id)
    if after_id is not None:
        query = query.where(StaffAction.id > after_id)
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
    if action is not None and action.endswith("."):
        query = query.where(StaffAction.action.startswith(action, autoescape=True))
    elif action is not None:
        query = query.where(StaffAction.action == action)
    if text:
        query = query.where(StaffAction.reason.icontains(text, autoescape=True))
    if after_id is not None:
        # The newer page: the oldest ones after ``after_id``, shown newest first.
        rows = db.scalars(query.order_by(StaffAction.id.asc()).limit(limit))
        return sorted(rows, key=lambda row: row.id, reverse=True)
    return list(db.scalars(query.order_by(StaffAction.id.desc()).limit(limit)))
