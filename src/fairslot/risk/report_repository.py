"""Every query behind the daily risk report (``risk/report.py`` says what each list means).

Lists are read with joins and grouped counts rather than ``IN (...)`` lists of ids, so a
day with thousands of alerts costs a handful of statements on either backend.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime

from sqlalchemy import ColumnElement, and_, exists, func, or_, select
from sqlalchemy.orm import Session

from fairslot.blacklist.models import BlacklistEntry
from fairslot.cases.models import Case, CaseEvent
from fairslot.cases.states import CLOSED, CaseEventKind
from fairslot.followup.models import CallTask
from fairslot.followup.states import CallOutcome, CallReason, CallStatus
from fairslot.risk.models import RiskAlert, RiskRun

_DECISIONS = (CaseEventKind.CONFIRMED, CaseEventKind.DISMISSED)


def run_on(db: Session, day: date) -> RiskRun | None:
    return db.scalars(select(RiskRun).where(RiskRun.run_date == day)).one_or_none()


def alerts_on(db: Session, day: date) -> list[RiskAlert]:
    return list(db.scalars(select(RiskAlert).where(RiskAlert.run_date == day)))


def _with_alert_counts(db: Session, where: ColumnElement[bool]) -> list[tuple[Case, int]]:
    # A correlated count reads each case's alerts through the case_id index.
    alerts = (
        select(func.count(RiskAlert.id))
        .where(RiskAlert.case_id == Case.id)
        .correlate(Case)
        .scalar_subquery()
    )
    stmt = select(Case, alerts).where(where).order_by(Case.id)
    return [(case, int(n)) for case, n in db.execute(stmt).all()]


def cases_opened_by(
    db: Session, *, day: date, start: datetime, end: datetime
) -> list[tuple[Case, int]]:
    """Cases whose earliest alert is of ``day``, and cases without any alert opened in
    ``[start, end)``; each with its number of alerts."""
    alert_on = exists(
        select(RiskAlert.id).where(RiskAlert.case_id == Case.id, RiskAlert.run_date == day)
    )
    earlier = exists(
        select(RiskAlert.id).where(RiskAlert.case_id == Case.id, RiskAlert.run_date < day)
    )
    without_alerts = and_(
        ~exists(select(RiskAlert.id).where(RiskAlert.case_id == Case.id)),
        Case.opened_at >= start,
        Case.opened_at < end,
    )
    return _with_alert_counts(db, or_(and_(alert_on, ~earlier), without_alerts))


def cases_closed_between(
    db: Session, *, start: datetime, end: datetime
) -> list[tuple[Case, int, str | None]]:
    """Cases confirmed or dismissed in ``[start, end)`` with their alert count and who
    decided (the actor of the decision's ledger event)."""
    rows = _with_alert_counts(
        db, and_(Case.status.in_(CLOSED), Case.closed_at >= start, Case.closed_at < end)
    )
    deciders = _deciders(db, start=start, end=end)
    return [(case, n, deciders.get(case.id)) for case, n in rows]


def _deciders(db: Session, *, start: datetime, end: datetime) -> dict[int, str]:
    stmt = (
        select(CaseEvent.case_id, CaseEvent.actor)
        .join(Case, Case.id == CaseEvent.case_id)
        .where(
            CaseEvent.kind.in_(_DECISIONS),
            Case.closed_at >= start,
            Case.closed_at < end,
        )
        .order_by(CaseEvent.id)
    )
    # A closed case has one decision; if a bug ever wrote two, the last one names who closed it.
    return {case_id: actor for case_id, actor in db.execute(stmt).all()}


def _open_at(cutoff: datetime) -> ColumnElement[bool]:
    return and_(
        Case.opened_at < cutoff,
        or_(Case.closed_at.is_(None), Case.closed_at >= cutoff),
    )


def cases_open_at(db: Session, *, cutoff: datetime) -> list[tuple[Case, int]]:
    """Cases opened before ``cutoff`` and not closed by then."""
    return _with_alert_counts(db, _open_at(cutoff))


def events_of_open_cases(db: Session, *, cutoff: datetime) -> dict[int, list[CaseEventKind]]:
    """The ledger event kinds before ``cutoff`` of the cases open at ``cutoff``, oldest first."""
    stmt = (
        select(CaseEvent.case_id, CaseEvent.kind)
        .join(Case, Case.id == CaseEvent.case_id)
        .where(_open_at(cutoff), CaseEvent.at < cutoff)
        .order_by(CaseEvent.case_id, CaseEvent.at, CaseEvent.id)
    )
    kinds: dict[int, list[CaseEventKind]] = defaultdict(list)
    for case_id, kind in db.execute(stmt).all():
        kinds[case_id].append(kind)
    return kinds


def blacklist_added_between(db: Session, *, start: datetime, end: datetime) -> list[BlacklistEntry]:
    return list(
        db.scalars(
            select(BlacklistEntry).where(
                BlacklistEntry.created_at >= start, BlacklistEntry.created_at < end
            )
        )
    )


def blacklist_lifted_between(
    db: Session, *, start: datetime, end: datetime
) -> list[BlacklistEntry]:
    return list(
        db.scalars(
            select(BlacklistEntry).where(
                BlacklistEntry.lifted_at >= start, BlacklistEntry.lifted_at < end
            )
        )
    )


def calls_done_between(
    db: Session, *, start: datetime, end: datetime
) -> list[tuple[CallReason, CallOutcome]]:
    """(reason, outcome) of each follow-up call finished in ``[start, end)``."""
    stmt = select(CallTask.reason, CallTask.outcome).where(
        CallTask.status == CallStatus.DONE,
        CallTask.outcome.is_not(None),
        CallTask.done_at >= start,
        CallTask.done_at < end,
    )
    return [(reason, outcome) for reason, outcome in db.execute(stmt).all() if outcome is not None]
