"""Every state change of a case, one named function each.

Each one is a compare-and-set (``UPDATE cases … WHERE id = :id AND version = :v AND
status = :expected``): two reviewers acting on the same case at once cannot both win,
on SQLite or PostgreSQL, without a lock being held while a reviewer reads the evidence.
The loser's UPDATE changes no row and it gets a 409. Each function checks the move
against ``states.CASE_TRANSITIONS`` and appends its ``case_events`` row in the same
transaction. Nothing else in fairslot assigns a case's status.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from fairslot.cases import ledger
from fairslot.cases.errors import CaseConflict
from fairslot.cases.models import Case
from fairslot.cases.states import CaseEventKind, CaseStatus, can_transition
from fairslot.db import versioned
from fairslot.staff.audit import StaffActor

SYSTEM_ACTOR = "system"


def take(
    db: Session, *, case: Case, actor: StaffActor, now: datetime, locked_until: datetime
) -> None:
    """open → in_review, claimed by ``actor`` until ``locked_until``."""
    _move(
        db,
        case=case,
        expected=CaseStatus.OPEN,
        target=CaseStatus.IN_REVIEW,
        now=now,
        values={"assigned_to": actor.staff_id, "locked_until": locked_until},
    )
    _event(
        db,
        case=case,
        kind=CaseEventKind.TAKEN,
        now=now,
        actor=actor,
        data={"locked_until": locked_until.isoformat()},
    )


def take_lapsed(
    db: Session, *, case: Case, actor: StaffActor, now: datetime, locked_until: datetime
) -> None:
    """A case whose reviewer's claim has lapsed goes to ``actor``: ``released`` for the
    lapsed claim, then ``taken``. The lapse is part of the WHERE clause, so a reviewer
    whose lock is still live never loses the case this way."""
    previous, lapsed_at = case.assigned_to, case.locked_until
    _move(
        db,
        case=case,
        expected=CaseStatus.IN_REVIEW,
        target=CaseStatus.IN_REVIEW,
        now=now,
        values={"assigned_to": actor.staff_id, "locked_until": locked_until},
        extra_where=[Case.locked_until <= now],
        through=CaseStatus.OPEN,
    )
    ledger.append(
        db,
        case=case,
        kind=CaseEventKind.RELEASED,
        at=now,
        actor=SYSTEM_ACTOR,
        data={
            "lapsed": True,
            "reviewer": previous,
            "lapsed_at": lapsed_at.isoformat() if lapsed_at else None,
        },
    )
    _event(
        db,
        case=case,
        kind=CaseEventKind.TAKEN,
        now=now,
        actor=actor,
        data={"locked_until": locked_until.isoformat(), "after_lapse_of": previous},
    )


def release(db: Session, *, case: Case, actor: StaffActor, now: datetime) -> None:
    """in_review → open: the reviewer puts the case back in the queue undecided."""
    _move(
        db,
        case=case,
        expected=CaseStatus.IN_REVIEW,
        target=CaseStatus.OPEN,
        now=now,
        values={"assigned_to": None, "locked_until": None},
        extra_where=_held_by(actor),
    )
    _event(db, case=case, kind=CaseEventKind.RELEASED, now=now, actor=actor, data={})


def request_calls(
    db: Session,
    *,
    case: Case,
    actor: StaffActor,
    now: datetime,
    question: str,
    task_ids: Sequence[int],
) -> None:
    """in_review → awaiting_call: customer service calls the case's patients first."""
    _move(
        db,
        case=case,
        expected=CaseStatus.IN_REVIEW,
        target=CaseStatus.AWAITING_CALL,
        now=now,
        values={"assigned_to": None, "locked_until": None},
        extra_where=_held_by(actor, now=now),
    )
    _event(
        db,
        case=case,
        kind=CaseEventKind.CALL_REQUESTED,
        now=now,
        actor=actor,
        data={"question": question, "tasks": list(task_ids)},
    )


def call_outcome(
    db: Session, *, case: Case, actor: StaffActor, now: datetime, data: dict[str, Any]
) -> None:
    """Not a change of status: the outcome of one call joins the case's history."""
    _event(db, case=case, kind=CaseEventKind.CALL_OUTCOME, now=now, actor=actor, data=data)


def calls_done(
    db: Session, *, case: Case, actor: StaffActor, now: datetime, outcomes: dict[str, int]
) -> None:
    """awaiting_call → open: every requested call has its outcome; back to the queue."""
    _move(db, case=case, expected=CaseStatus.AWAITING_CALL, target=CaseStatus.OPEN, now=now)
    _event(
        db,
        case=case,
        kind=CaseEventKind.CALLS_DONE,
        now=now,
        actor=actor,
        data={"outcomes": outcomes},
    )


def confirm(
    db: Session,
    *,
    case: Case,
    actor: StaffActor,
    now: datetime,
    reason: str,
    data: dict[str, Any],
    evidence_version: int,
) -> None:
    """in_review → confirmed (closed): a scalper; the caller blacklists what was chosen."""
    _close(
        db,
        case=case,
        actor=actor,
        now=now,
        reason=reason,
        target=CaseStatus.CONFIRMED,
        kind=CaseEventKind.CONFIRMED,
        data=data,
        evidence_version=evidence_version,
    )


def dismiss(
    db: Session,
    *,
    case: Case,
    actor: StaffActor,
    now: datetime,
    reason: str,
    evidence_version: int,
) -> None:
    """in_review → dismissed (closed): not a scalper, with the reason."""
    _close(
        db,
        case=case,
        actor=actor,
        now=now,
        reason=reason,
        target=CaseStatus.DISMISSED,
        kind=CaseEventKind.DISMISSED,
        data={},
        evidence_version=evidence_version,
    )


# -- helpers ---------------------------------------------------------------------------


def _close(
    db: Session,
    *,
    case: Case,
    actor: StaffActor,
    now: datetime,
    reason: str,
    target: CaseStatus,
    kind: CaseEventKind,
    data: dict[str, Any],
    evidence_version: int,
) -> None:
    """Close the case if ``actor`` holds its live claim and it has received no alert since
    ``evidence_version`` (a batch adding one commits before or after this update; either
    way the row tells)."""
    _move(
        db,
        case=case,
        expected=CaseStatus.IN_REVIEW,
        target=target,
        now=now,
        values={
            "closed_at": now,
            "decision_reason": reason[:1000],
            "locked_until": None,
        },
        extra_where=[*_held_by(actor, now=now), Case.evidence_version == evidence_version],
    )
    _event(db, case=case, kind=kind, now=now, actor=actor, data={"reason": reason, **data})


def _held_by(actor: StaffActor, *, now: datetime | None = None) -> list[Any]:
    """Only the reviewer holding the claim (a live one, when ``now`` is given) may act."""
    where: list[Any] = [Case.assigned_to == actor.staff_id]
    if now is not None:
        where.append(Case.locked_until > now)
    return where


def _check(current: CaseStatus, target: CaseStatus) -> None:
    if not can_transition(current, target):
        # A programming error, not a reviewer's: the table forbids this move.
        raise CaseConflict(
            f"A case cannot go from {current.value} to {target.value}.",
            code="case_transition_not_allowed",
        )


def _move(
    db: Session,
    *,
    case: Case,
    expected: CaseStatus,
    target: CaseStatus,
    now: datetime,
    values: dict[str, Any] | None = None,
    extra_where: Sequence[Any] = (),
    through: CaseStatus | None = None,
) -> None:
    if through is None:
        _check(expected, target)
    else:
        _check(expected, through)
        _check(through, target)
    values = {"status": target, "updated_at": now, **(values or {})}
    if not versioned.compare_and_set(
        db, row=case, expected=expected, values=values, extra_where=extra_where
    ):
        raise CaseConflict(
            "The case changed while you were looking at it (another reviewer or a lapsed "
            "claim). Reload it and try again.",
            code="case_changed",
            detail_zh="该案件已被他人更新，请刷新后重试。",
        )


def _event(
    db: Session,
    *,
    case: Case,
    kind: CaseEventKind,
    now: datetime,
    actor: StaffActor,
    data: dict[str, Any],
) -> None:
    ledger.append(
        db, case=case, kind=kind, at=now, actor=actor.username, staff_id=actor.staff_id, data=data
    )
