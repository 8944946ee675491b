"""A customer-service call's outcome, carried to its case.

The call desk is below the review queue: a reviewer asks for calls (``review.py`` creates
the tasks through ``followup/repository.py``), and an agent's outcome comes back up here.
The task's own part is ``followup/service.py::complete_call``; its case's part is here, in
the same transaction: the call joins the case's history, and the last flagged call of a
case waiting on calls sends the case back to the queue. Services only flush; the edge
commits.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from fairslot.cases import repository as repo
from fairslot.cases import transitions
from fairslot.cases.states import CaseStatus
from fairslot.followup import repository as calls_repo
from fairslot.followup import service as calls
from fairslot.followup.errors import CallNotFound
from fairslot.followup.models import CallTask
from fairslot.followup.states import CallOutcome, CallReason
from fairslot.staff.audit import StaffActor


def record_outcome(
    db: Session,
    *,
    task_id: int,
    outcome: CallOutcome,
    note: str | None,
    actor: StaffActor,
    now: datetime,
) -> CallTask:
    """The call's outcome: the task is done; a case's call joins its history, and the
    last flagged call of a case waiting on calls sends the case back to the queue."""
    note = calls.call_note(note)
    task = calls.complete_call(
        db, task_id=task_id, outcome=outcome, note=note, actor=actor, now=now
    )
    if task.case_id is None:
        return task
    # Locked so that two agents finishing a case's last two calls at once cannot each
    # count the other's call as open: the second counts after the first has committed.
    case = repo.lock(db, task.case_id)
    if case is None:  # a foreign key holds it; kept for the type checker
        raise CallNotFound("The call's case is gone.", code="case_not_found")
    transitions.call_outcome(
        db,
        case=case,
        actor=actor,
        now=now,
        data={
            "task": task.id,
            "patient_id": task.patient_id,
            "outcome": outcome.value,
            "note": note,
        },
    )
    if (
        task.reason == CallReason.FLAGGED
        and case.status == CaseStatus.AWAITING_CALL
        and calls_repo.open_flagged_of_case(db, case.id) == 0
    ):
        transitions.calls_done(
            db, case=case, actor=actor, now=now, outcomes=calls_repo.outcomes_of_case(db, case.id)
        )
    return task
