"""Reading the audit log: staff actions found by who, what, which target, when and words of
the reason, a page at a time (newest first), with the ids to page older and newer."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from fairslot.staff import repository as repo
from fairslot.staff.models import StaffAction


@dataclass(frozen=True)
class AuditFilter:
    since: datetime | None = None
    until: datetime | None = None  # exclusive
    actor: str | None = None
    # An action ("staff.roles"), or a family when it ends in a dot ("staff.").
    action: str | None = None
    target_kind: str | None = None
    target_id: str | None = None
    text: str | None = None  # words of the reason, any letter case


@dataclass(frozen=True)
class AuditPage:
    rows: list[StaffAction] = field(default_factory=list)
    older: int | None = None  # ``before_id`` of the next older page; None: no older row
    newer: int | None = None  # ``after_id`` of the next newer page; None: no newer row


def search(
    db: Session,
    *,
    where: AuditFilter,
    before_id: int | None = None,
    after_id: int | None = None,
    limit: int = 50,
) -> AuditPage:
    """A page of matching actions, newest first: the newest ones, or those just older than
    ``before_id``, or just newer than ``after_id``."""
    rows = _find(db, where, before_id=before_id, after_id=after_id, limit=limit + 1)
    if after_id is not None:
        more_newer, rows = len(rows) > limit, rows[-limit:]
        more_older = bool(rows)  # the page it came from
    else:
        more_older, rows = len(rows) > limit, rows[:limit]
        more_newer = bool(rows) and bool(_find(db, where, after_id=rows[0].id, limit=1))
    return AuditPage(
        rows=rows,
        older=rows[-1].id if rows and more_older else None,
        newer=rows[0].id if rows and more_newer else None,
    )


def _find(
    db: Session,
    where: AuditFilter,
    *,
    limit: int,
    before_id: int | None = None,
    after_id: int | None = None,
) -> list[StaffAction]:
    return repo.actions(
        db,
        since=where.since,
        until=where.until,
        actor=where.actor,
        action=where.action,
        target_kind=where.target_kind,
        target_id=where.target_id,
        text=where.text,
        before_id=before_id,
        after_id=after_id,
        limit=limit,
    )
