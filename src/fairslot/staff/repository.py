"""Every query on staff accounts, tokens and the audit log."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from fairslot.staff.models import StaffAction, StaffToken, StaffUser
from fairslot.staff.roles import Role, parse_roles
from fairslot.staff.throttle import Failures, RecentFailures


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


LOGIN = "staff.login"
LOGIN_FAILED = "staff.login_failed"


def sign_in_failures(db: Session, *, username: str, address_key: str, since: datetime) -> Failures:
    """Failed sign-ins since ``since`` from the address counted as ``address_key``: of
    ``username`` and of any username (the audit rows, read through ``ix_staff_actions_at``
    over the throttle's short window)."""
    same_user = StaffAction.data["username"].as_string() == username
    row = db.execute(
        select(
            func.count().filter(same_user),
            func.max(StaffAction.at).filter(same_user),
            func.count(),
            func.max(StaffAction.at),
        ).where(
            StaffAction.action == LOGIN_FAILED,
            StaffAction.at >= since,
            StaffAction.data["address_key"].as_string() == address_key,
        )
    ).one()
    return Failures(
        pair=int(row[0]),
        pair_last=_aware(row[1]),
        address=int(row[2]),
        address_last=_aware(row[3]),
    )


def failures_since_previous_sign_in(db: Session, *, staff_id: int) -> RecentFailures:
    """Failed sign-ins for a member's account since their sign-in before the latest one
    (all of them, if they signed in only once), with the latest's masked address."""
    logins = list(
        db.scalars(
            select(StaffAction.at)
            .where(StaffAction.action == LOGIN, StaffAction.staff_id == staff_id)
            .order_by(StaffAction.at.desc(), StaffAction.id.desc())
            .limit(2)
        )
    )
    query = select(StaffAction).where(
        StaffAction.action == LOGIN_FAILED,
        StaffAction.target_kind == "staff",
        StaffAction.target_id == str(staff_id),
    )
    if len(logins) == 2:
        query = query.where(StaffAction.at > logins[1])
    count = db.scalar(select(func.count()).select_from(query.subquery())) or 0
    latest = db.scalars(query.order_by(StaffAction.at.desc(), StaffAction.id.desc())).first()
    if latest is None:
        return RecentFailures()
    label = latest.data.get("address")
    return RecentFailures(
        count=int(count),
        last_at=latest.at,
        last_from=label if isinstance(label, str) else None,
    )


def _aware(value: datetime | None) -> datetime | None:
    # An aggregate of a UTC column may come back naive on SQLite.
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value
