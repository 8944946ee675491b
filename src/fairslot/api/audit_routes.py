"""Auditors' staff API: the audit log of every staff action — who, what, when, why."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

from fairslot.api.deps import DbDep, PlatformDep, done
from fairslot.api.localtime import local
from fairslot.api.staff_deps import AuditorDep
from fairslot.staff import audit_log as log

router = APIRouter(prefix="/staff/v1/audit", tags=["staff: audit"])


class ActionView(BaseModel):
    id: int
    at: datetime
    actor: str  # username, "cli:<name>" or "system"
    action: str  # e.g. "blacklist.lift", "staff.roles"
    target_kind: str
    target_id: str
    reason: str | None
    data: dict[str, Any]


class AuditPage(BaseModel):
    items: list[ActionView]
    # Pass as ``before_id`` for the next (older) page; None on the last page.
    next_before_id: int | None
    # Pass as ``after_id`` for the newer page; None when nothing newer matches.
    newer_after_id: int | None = None


@router.get("", response_model=AuditPage)
def audit_log(
    actor: AuditorDep,
    request: Request,
    db: DbDep,
    platform: PlatformDep,
    since: Annotated[
        datetime | None, Query(description="From (a time without zone: local).")
    ] = None,
    until: Annotated[datetime | None, Query(description="Before this time.")] = None,
    by: Annotated[str | None, Query(alias="actor", max_length=64)] = None,
    action: Annotated[
        str | None,
        Query(max_length=64, description='An action, or a family ending in a dot ("staff.").'),
    ] = None,
    target_kind: Annotated[str | None, Query(max_length=32)] = None,
    target_id: Annotated[str | None, Query(max_length=64)] = None,
    q: Annotated[str | None, Query(max_length=200, description="Words of the reason.")] = None,
    before_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    after_id: Annotated[int | None, Query(ge=0, le=2**31 - 1)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> AuditPage:
    """Staff actions newest first, filtered by time, actor, action, target and words of
    the reason."""
    tz = platform.settings.default_timezone
    found = log.search(
        db,
        where=log.AuditFilter(
            since=_aware(since, tz),
            until=_aware(until, tz),
            actor=by,
            action=action,
            target_kind=target_kind,
            target_id=target_id,
            text=q,
        ),
        before_id=before_id,
        after_id=after_id,
        limit=limit,
    )
    page = AuditPage(
        items=[
            ActionView(
                id=r.id,
                at=local(r.at, tz),
                actor=r.actor,
                action=r.action,
                target_kind=r.target_kind,
                target_id=r.target_id,
                reason=r.reason,
                data=r.data or {},
            )
            for r in found.rows
        ],
        next_before_id=found.older,
        newer_after_id=found.newer,
    )
    return done(request, db, page)


def _aware(value: datetime | None, tz: str) -> datetime | None:
    """A filter time without a zone is read in the hospital's zone."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=ZoneInfo(tz))
