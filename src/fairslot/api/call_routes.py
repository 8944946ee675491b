"""Follow-up calls by customer service: ``/staff/v1/calls``.

An agent takes the next call (flagged calls a reviewer asked for come before the random
sample), dials the patient — the agent holding the call sees the number in full, and that
view is audited — and records the outcome. Every endpoint needs the customer_service role.

Refusals: 401 ``staff_token_missing`` / ``staff_token_invalid``; 403 ``role_required``;
404 ``call_not_found``, ``queue_empty`` (``POST /next`` when nothing waits); 409
``call_done``, ``call_not_taken``, ``call_not_yours``, ``call_lock_lapsed``,
``call_changed``; 422 ``invalid_request`` (an outcome other than genuine, suspicious,
unreachable).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Path, Request
from sqlalchemy.orm import Session

from fairslot.api.deps import DbDep, PlatformDep, done
from fairslot.api.staff_deps import CustomerServiceDep
from fairslot.bootstrap import Platform
from fairslot.cases import calls as case_calls
from fairslot.followup import service as calls
from fairslot.followup.models import CallTask
from fairslot.followup.schemas import CallTaskView, OutcomeIn
from fairslot.staff.audit import StaffActor

router = APIRouter(prefix="/staff/v1/calls", tags=["calls"])

TaskId = Annotated[int, Path(ge=1, le=2**31 - 1)]


def _view(
    db: Session, platform: Platform, *, task: CallTask, actor: StaffActor, now: datetime
) -> CallTaskView:
    """The call as the agent sees it; seeing the number in full is audited."""
    return calls.view(
        db,
        task=task,
        actor=actor,
        now=now,
        protector=platform.protector,
        # Calls may span hospitals; agents read them in the platform's (hospitals') zone.
        tz=ZoneInfo(platform.settings.default_timezone),
    )


@router.post("/next", response_model=CallTaskView)
def take_next(
    request: Request, db: DbDep, platform: PlatformDep, actor: CustomerServiceDep
) -> CallTaskView:
    now = platform.clock.now()
    task = calls.take_next(
        db, actor=actor, now=now, lock_minutes=platform.settings.review_lock_minutes
    )
    return done(request, db, _view(db, platform, task=task, actor=actor, now=now))


@router.get("/{task_id}", response_model=CallTaskView)
def get_call(
    task_id: TaskId, request: Request, db: DbDep, platform: PlatformDep, actor: CustomerServiceDep
) -> CallTaskView:
    task = calls.require(db, task_id)
    return done(request, db, _view(db, platform, task=task, actor=actor, now=platform.clock.now()))


@router.post("/{task_id}/outcome", response_model=CallTaskView)
def record_outcome(
    task_id: TaskId,
    body: OutcomeIn,
    request: Request,
    db: DbDep,
    platform: PlatformDep,
    actor: CustomerServiceDep,
) -> CallTaskView:
    now = platform.clock.now()
    task = case_calls.record_outcome(
        db, task_id=task_id, outcome=body.outcome, note=body.note, actor=actor, now=now
    )
    return done(request, db, _view(db, platform, task=task, actor=actor, now=now))


@router.post("/{task_id}/release", response_model=CallTaskView)
def release_call(
    task_id: TaskId, request: Request, db: DbDep, platform: PlatformDep, actor: CustomerServiceDep
) -> CallTaskView:
    now = platform.clock.now()
    task = calls.release(db, task_id=task_id, actor=actor, now=now)
    return done(request, db, _view(db, platform, task=task, actor=actor, now=now))
