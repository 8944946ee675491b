"""Queries of case intake: finding a subject's open case, raising its score, linking alerts.

Case state changes (take, release, confirm, dismiss) are not here: they belong to the
review workflow (``cases/transitions.py``).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime

from sqlalchemy import case, select, update
from sqlalchemy.orm import Session

from fairslot.cases.grouping import RING, Evidence
from fairslot.cases.models import Case
from fairslot.cases.states import CLOSED
from fairslot.risk.models import RiskAlert

# Keys per IN list: well under every driver's parameter limit.
_CHUNK = 500


def open_cases(
    db: Session, *, subjects: Collection[tuple[str, str]]
) -> dict[tuple[str, str], Case]:
    """The open (not yet closed) case of each ``(subject kind, subject key)`` that has one."""
    wanted = set(subjects)
    keys = sorted({key for _, key in wanted})
    found: dict[tuple[str, str], Case] = {}
    for start in range(0, len(keys), _CHUNK):
        rows = db.scalars(
            select(Case).where(
                Case.subject_key.in_(keys[start : start + _CHUNK]),
                Case.status.not_in(CLOSED),
            )
        )
        for row in rows:
            subject = (row.subject_kind, row.subject_key)
            if subject in wanted:
                found[subject] = row
    return found


def open_ring_cases(db: Session) -> dict[int, tuple[Case, frozenset[str]]]:
    """Every open ring case with the patients its ring alerts named."""
    rows = db.execute(
        select(Case, RiskAlert.details)
        .join(RiskAlert, RiskAlert.case_id == Case.id)
        .where(Case.subject_kind == RING, Case.status.not_in(CLOSED), RiskAlert.rule == RING)
    )
    found: dict[int, tuple[Case, frozenset[str]]] = {}
    for ring_case, details in rows:
        patients = frozenset(p["key"] for p in (details or {}).get("patients", ()))
        known = found.get(ring_case.id, (ring_case, frozenset()))[1]
        found[ring_case.id] = (ring_case, known | patients)
    return found


def last_closed_cases(
    db: Session, *, subjects: Collection[tuple[str, str]]
) -> dict[tuple[str, str], int]:
    """The most recently closed case of each subject that has one: ``subject -> case id``."""
    wanted = set(subjects)
    keys = sorted({key for _, key in wanted})
    found: dict[tuple[str, str], int] = {}
    for start in range(0, len(keys), _CHUNK):
        rows = db.execute(
            select(Case.id, Case.subject_kind, Case.subject_key)
            .where(Case.subject_key.in_(keys[start : start + _CHUNK]), Case.status.in_(CLOSED))
            .order_by(Case.id)
        )
        for case_id, kind, key in rows:
            if (kind, key) in wanted:
                found[(kind, key)] = case_id  # ascending ids: the last one wins
    return found


def case_evidence(db: Session, *, case_ids: Collection[int]) -> dict[int, Evidence]:
    """The bookings and events behind all the alerts of each case."""
    ids = sorted(set(case_ids))
    found: dict[int, Evidence] = {}
    for start in range(0, len(ids), _CHUNK):
        rows = db.execute(
            select(RiskAlert.case_id, RiskAlert.booking_ids, RiskAlert.event_ids).where(
                RiskAlert.case_id.in_(ids[start : start + _CHUNK])
            )
        )
        for case_id, booking_ids, event_ids in rows:
            if case_id is None:
                continue
            seen = Evidence.of(booking_ids=booking_ids or (), event_ids=event_ids or ())
            found[case_id] = found.get(case_id, Evidence()) | seen
    return found


def raise_score(db: Session, *, case_id: int, score: float, now: datetime) -> bool:
    """Lift an open case's score to at least ``score`` and touch it.

    Compare-and-set on "still open": a case a reviewer closed a moment ago is not reopened
    by the batch (the caller opens a new case instead). Its ``version`` is left alone: new
    evidence does not invalidate a reviewer's claim on the case. Its ``evidence_version``
    moves on: a decision made on the evidence before is refused (``cases/review.py``).
    """
    result = db.execute(
        update(Case)
        .where(Case.id == case_id, Case.status.not_in(CLOSED))
        .values(
            score=case((Case.score < score, score), else_=Case.score),
            updated_at=now,
            evidence_version=Case.evidence_version + 1,
        )
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount) == 1  # type: ignore[attr-defined]


def link_alerts(db: Session, *, case_of: Mapping[int, int]) -> None:
    """Set ``risk_alerts.case_id`` for each ``alert id -> case id`` (one batched UPDATE)."""
    if case_of:
        db.execute(
            update(RiskAlert),
            [{"id": alert_id, "case_id": case_id} for alert_id, case_id in case_of.items()],
        )
