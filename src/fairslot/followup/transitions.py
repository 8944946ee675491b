"""Every state change of a call task, one named function each.

Compare-and-set on the task's version and status, checked against
``states.CALL_TRANSITIONS``; each writes its staff audit row (the call queue's ledger) in
the same transaction. Nothing else assigns a call task's status.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from itertools import pairwise
from typing import Any

from sqlalchemy.orm import Session

from fairslot.db import versioned
from fairslot.followup.errors import CallConflict
from fairslot.followup.models import CallTask
from fairslot.followup.states import CALL_TRANSITIONS, CallOutcome, CallStatus
from fairslot.staff import audit
from fairslot.staff.audit import StaffActor


def take(
    db: Session, *, task: CallTask, actor: StaffActor, now: datetime, locked_until: datetime
) -> None:
    """pending → taken by ``actor`` until ``locked_until``; or a taken task whose agent's
    claim lapsed (back to pending, then taken) — the lapse is in the WHERE clause."""
    lapsed = task.status == CallStatus.TAKEN
    previous = task.assigned_to
    _move(
        db,
        task=task,
        expected=task.status,
        target=CallStatus.TAKEN,
        through=CallStatus.PENDING if lapsed else None,
        extra_where=[CallTask.locked_until <= now] if lapsed else [],
        values={"assigned_to": actor.staff_id, "locked_until": locked_until},
    )
    data: dict[str, Any] = {"locked_until": locked_until.isoformat()}
    if lapsed:
        data["after_lapse_of"] = previous
    _audit(db, task=task, actor=actor, now=now, action="call.take", data=data)


def release(db: Session, *, task: CallTask, actor: StaffActor, now: datetime) -> None:
    """taken → pending: the agent puts the call back for someone else."""
    _move(
        db,
        task=task,
        expected=CallStatus.TAKEN,
        target=CallStatus.PENDING,
        extra_where=[CallTask.assigned_to == actor.staff_id],
        values={"assigned_to": None, "locked_until": None},
    )
    _audit(db, task=task, actor=actor, now=now, action="call.release", data={})


def complete(
    db: Session,
    *,
    task: CallTask,
    actor: StaffActor,
    now: datetime,
    outcome: CallOutcome,
    note: str | None,
) -> None:
    """taken → done, with the outcome; only by the agent holding a live claim."""
    _move(
        db,
        task=task,
        expected=CallStatus.TAKEN,
        target=CallStatus.DONE,
        extra_where=[CallTask.assigned_to == actor.staff_id, CallTask.locked_until > now],
        values={"outcome": outcome, "note": note, "done_at": now, "locked_until": None},
    )
    _audit(
        db,
        task=task,
        actor=actor,
        now=now,
        action="call.outcome",
        reason=note,
        data={"outcome": outcome.value, "case": task.case_id},
    )


def _move(
    db: Session,
    *,
    task: CallTask,
    expected: CallStatus,
    target: CallStatus,
    values: dict[str, Any],
    extra_where: Sequence[Any] = (),
    through: CallStatus | None = None,
) -> None:
    steps = [expected, target] if through is None else [expected, through, target]
    for current, following in pairwise(steps):
        if following not in CALL_TRANSITIONS[current]:
            raise CallConflict(
                f"A call task cannot go from {current.value} to {following.value}.",
                code="call_transition_not_allowed",
            )
    values = {"status": target, **values}
    if not versioned.compare_and_set(
        db, row=task, expected=expected, values=values, extra_where=extra_where
    ):
        raise CallConflict(
            "The call task changed meanwhile (another agent, or your claim lapsed). "
            "Reload it and try again.",
            code="call_changed",
            detail_zh="该回访任务已被他人更新，请刷新后重试。",
        )


def _audit(
    db: Session,
    *,
    task: CallTask,
    actor: StaffActor,
    now: datetime,
    action: str,
    data: dict[str, Any],
    reason: str | None = None,
) -> None:
    audit.record(
        db,
        actor=actor,
        action=action,
        target_kind="call",
        target_id=task.id,
        now=now,
        reason=reason,
        data=data,
    )
