"""Case intake: the batch's new alerts become cases for the medical-affairs office.

Each alert goes to its subject's case (``cases/grouping.py``): the subject's open case if it
has one (``alert_added``, the case's score rises to the alert's if higher), else a new case
(``opened``). A subject whose case was closed gets a new case when it is hit again with
new evidence; a hit on evidence that case already showed is linked to it and changes
nothing (``grouping.already_reviewed``). Every
change writes its ``case_events`` row in the same transaction; only flushes, the edge
commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final

from sqlalchemy.orm import Session

from fairslot.cases import intake_repository as repo
from fairslot.cases import ledger
from fairslot.cases.grouping import (
    RING,
    Evidence,
    Subject,
    already_reviewed,
    continuing_case,
)
from fairslot.cases.models import Case
from fairslot.cases.states import CaseEventKind, CaseStatus

BATCH_ACTOR: Final = "risk-batch"


@dataclass(frozen=True, kw_only=True)
class IntakeAlert:
    """A stored alert and the subject it is about."""

    alert_id: int
    rule: str
    score: float
    subject: Subject
    evidence: Evidence = field(default_factory=Evidence)


@dataclass
class IntakeReport:
    opened: list[int] = field(default_factory=list)  # case ids
    updated: list[int] = field(default_factory=list)
    # alerts whose evidence a closed case on their subject had already shown
    already_reviewed: int = 0


def take_in(
    db: Session, *, alerts: Sequence[IntakeAlert], now: datetime, actor: str = BATCH_ACTOR
) -> IntakeReport:
    """File ``alerts`` into cases: one case event per case touched, whatever the number of
    alerts it receives."""
    by_subject: dict[tuple[str, str], list[IntakeAlert]] = {}
    for alert in alerts:
        by_subject.setdefault((alert.subject.kind, alert.subject.key), []).append(alert)
    existing = repo.open_cases(db, subjects=list(by_subject))
    existing.update(
        _continued_rings(
            db, [g[0].subject for s, g in by_subject.items() if s[0] == RING and s not in existing]
        )
    )
    closed = repo.last_closed_cases(db, subjects=[s for s in by_subject if s not in existing])
    reviewed = repo.case_evidence(db, case_ids=closed.values())
    report = IntakeReport()
    case_of: dict[int, int] = {}
    for subject, group in by_subject.items():
        current = existing.get(subject)
        last_closed = closed.get(subject)
        if current is not None and add_alerts(db, case=current, alerts=group, now=now, actor=actor):
            report.updated.append(current.id)
            case_id = current.id
        elif last_closed is not None and all(
            already_reviewed(a.evidence, reviewed=reviewed.get(last_closed, Evidence()))
            for a in group
        ):
            # Kept with the case that judged this evidence; the case itself does not change.
            report.already_reviewed += len(group)
            case_id = last_closed
        else:
            case_id = open_case(db, alerts=group, now=now, actor=actor).id
            report.opened.append(case_id)
        for alert in group:
            case_of[alert.alert_id] = case_id
    repo.link_alerts(db, case_of=case_of)
    return report


def _continued_rings(db: Session, new_rings: Sequence[Subject]) -> dict[tuple[str, str], Case]:
    """Rings without an open case of their own that continue another ring's open case."""
    if not new_rings:
        return {}
    rings = repo.open_ring_cases(db)
    members = {case_id: patients for case_id, (_, patients) in rings.items()}
    found = {}
    for ring in new_rings:
        continued = continuing_case(ring, open_rings=members)
        if continued is not None:
            found[(ring.kind, ring.key)] = rings[continued][0]
    return found


def open_case(
    db: Session, *, alerts: Sequence[IntakeAlert], now: datetime, actor: str = BATCH_ACTOR
) -> Case:
    """A new case in the review queue for the subject of ``alerts`` (all on one subject)."""
    subject = alerts[0].subject
    case = Case(
        subject_kind=subject.kind,
        subject_key=subject.key,
        subject_label=subject.label[:128],
        status=CaseStatus.OPEN,
        score=max(alert.score for alert in alerts),
        version=1,
        opened_at=now,
        updated_at=now,
    )
    db.add(case)
    db.flush()
    ledger.append(
        db, case=case, kind=CaseEventKind.OPENED, at=now, actor=actor, data=_event_data(alerts)
    )
    return case


def add_alerts(
    db: Session,
    *,
    case: Case,
    alerts: Sequence[IntakeAlert],
    now: datetime,
    actor: str = BATCH_ACTOR,
) -> bool:
    """Add ``alerts`` to ``case`` if it is still open; False (nothing written) if it was
    closed meanwhile."""
    if not repo.raise_score(
        db, case_id=case.id, score=max(alert.score for alert in alerts), now=now
    ):
        return False
    ledger.append(
        db, case=case, kind=CaseEventKind.ALERT_ADDED, at=now, actor=actor, data=_event_data(alerts)
    )
    return True


def _event_data(alerts: Sequence[IntakeAlert]) -> dict[str, object]:
    return {
        "alert_ids": [alert.alert_id for alert in alerts],
        "rules": sorted({alert.rule for alert in alerts}),
        "score": max(alert.score for alert in alerts),
    }
