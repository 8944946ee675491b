"""Appending to the case ledger (``case_events``): the one way a case's history is written."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from fairslot.cases.models import Case, CaseEvent
from fairslot.cases.states import CaseEventKind


def append(
    db: Session,
    *,
    case: Case,
    kind: CaseEventKind,
    at: datetime,
    actor: str,
    staff_id: int | None = None,
    data: dict[str, Any] | None = None,
) -> CaseEvent:
    event = CaseEvent(
        case_id=case.id,
        kind=kind,
        at=at,
        staff_id=staff_id,
        actor=actor[:64],
        data=data or {},
    )
    db.add(event)
    db.flush()
    return event
