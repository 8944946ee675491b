"""A patient's "problem booking?" request: a call task for the call desk.

The request comes from the patient pages (acting as the hospital's own channel): it is
recorded like any channel request (the edge's request record, action ``help``), and
lands in the same queue as the reviewers' calls and the daily sample (reason ``help``).
One open request per patient: asking again while one waits adds nothing.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy.orm import Session

from fairslot.errors import Conflict
from fairslot.followup import repository as repo
from fairslot.followup.models import CallTask
from fairslot.followup.states import CallReason, CallStatus

MAX_QUESTION = 500


class HelpAlreadyAsked(Conflict):
    code = "help_already_asked"


def request_help(
    db: Session,
    *,
    patient_id: int,
    booking_id: str | None,
    question: str,
    now: datetime,
) -> CallTask:
    """Open a call task for ``patient_id`` (a patient the caller checked is bound to the
    asking account) about ``booking_id`` (one of that account's, or None)."""
    if repo.open_help_of_patient(db, patient_id=patient_id):
        raise HelpAlreadyAsked(
            "You already asked for help; customer service will call you soon.",
            detail_zh="您已提交过求助，客服会尽快给您回电，请保持电话畅通。",
        )
    text = " ".join(question.split())[:MAX_QUESTION] or "—"
    task = CallTask(
        dedupe_key=f"help:{patient_id}:{secrets.token_hex(8)}",
        reason=CallReason.HELP,
        status=CallStatus.PENDING,
        patient_id=patient_id,
        booking_id=booking_id,
        question=text,
        version=1,
        created_at=now,
    )
    db.add(task)
    db.flush()
    return task
