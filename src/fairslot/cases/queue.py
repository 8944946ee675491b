"""The review queue as the medical-affairs office reads it: the undecided cases (open, in
review, awaiting a call), best first, with the rules that flagged each; the cases decided
lately; and how many cases are in each state."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from fairslot.cases import evidence as ev
from fairslot.cases import reading_repository as repo
from fairslot.cases.models import Case
from fairslot.cases.schemas import CaseSummary
from fairslot.cases.states import CLOSED, CaseStatus

WAITING: Final = (CaseStatus.OPEN, CaseStatus.IN_REVIEW, CaseStatus.AWAITING_CALL)
DECIDED: Final = (CaseStatus.CONFIRMED, CaseStatus.DISMISSED)
RECENT: Final = 10


@dataclass(frozen=True)
class QueueRow:
    case: CaseSummary
    rules: list[str]


@dataclass(frozen=True)
class Queue:
    status: CaseStatus | None  # the filter; None: the undecided cases and recent decisions
    rows: list[QueueRow]
    decided: list[QueueRow]
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def waiting(self) -> int:
        return sum(self.counts.get(s.value, 0) for s in WAITING)


def queue(db: Session, *, status: CaseStatus | None, limit: int, tz: ZoneInfo) -> Queue:
    counts = {s.value: n for s, n in repo.count_by_status(db).items()}
    if status is None:
        rows = repo.cases_in(db, statuses=WAITING, limit=limit)
        decided = repo.recently_decided(db, statuses=DECIDED, limit=RECENT)
    elif status in CLOSED:
        rows, decided = repo.recently_decided(db, statuses=[status], limit=limit), []
    else:
        rows, decided = repo.cases_in(db, statuses=[status], limit=limit), []
    rules = repo.rules_by_case(db, {c.id for c in [*rows, *decided]})
    return Queue(
        status=status,
        rows=_rows(db, rows, rules, tz),
        decided=_rows(db, decided, rules, tz),
        counts=counts,
    )


def _rows(
    db: Session, cases: list[Case], rules: dict[int, list[str]], tz: ZoneInfo
) -> list[QueueRow]:
    return [
        QueueRow(case=summary, rules=rules.get(summary.case_id, []))
        for summary in ev.summaries(db, cases, tz=tz)
    ]
