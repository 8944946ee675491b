"""Reading the daily risk report: load the day's rows, hand them to the pure report, and
audit the reading when a member of staff asks for it. Services only flush."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime

from sqlalchemy.orm import Session

from fairslot.blacklist.models import BlacklistEntry
from fairslot.cases.models import Case
from fairslot.cases.states import CaseEventKind, CaseStatus
from fairslot.risk import report_repository as repo
from fairslot.risk.report import (
    AlertLine,
    BlacklistLine,
    CaseLine,
    ClosedCase,
    DailyReport,
    RunSummary,
    build,
    close_of_day,
    day_bounds,
    not_found,
    status_after,
)
from fairslot.staff import audit
from fairslot.staff.audit import StaffActor


def daily_report(db: Session, *, day: date, zone: str) -> DailyReport:
    """The report for local date ``day`` in ``zone``; 404 ``report_not_found`` when the
    batch has not run for it."""
    run = repo.run_on(db, day)
    if run is None:
        raise not_found(day)
    start, end = day_bounds(day, zone)
    cutoff = close_of_day(day, zone, run_finished=run.finished_at)
    replayed = repo.events_of_open_cases(db, cutoff=cutoff)
    return build(
        day=day,
        zone=zone,
        run=RunSummary(
            run_date=run.run_date,
            window_start=run.window_start,
            window_end=run.window_end,
            started_at=run.started_at,
            finished_at=run.finished_at,
            bookings_seen=run.bookings_seen,
            events_seen=run.events_seen,
            hits=run.hits,
            rings_flagged=run.rings_flagged,
            runs=run.runs,
            actor=run.actor,
        ),
        alerts=[
            AlertLine(
                id=a.id,
                rule=a.rule,
                entity_kind=a.entity_kind,
                label=a.entity_label,
                score=a.score,
                explanation=a.explanation,
                bookings=len(a.booking_ids or ()),
                case_id=a.case_id,
            )
            for a in repo.alerts_on(db, day)
        ],
        opened=[
            _case_line(case, alerts, _status_at(case, cutoff=cutoff, replayed=replayed))
            for case, alerts in repo.cases_opened_by(db, day=day, start=start, end=end)
        ],
        closed=[
            ClosedCase(
                id=case.id,
                subject_kind=case.subject_kind,
                label=case.subject_label,
                score=case.score,
                alerts=alerts,
                outcome=case.status,
                by=decider or "unknown",
                reason=case.decision_reason,
                closed_at=case.closed_at or end,
            )
            for case, alerts, decider in repo.cases_closed_between(db, start=start, end=end)
        ],
        still_open=[
            _case_line(case, alerts, _status_at(case, cutoff=cutoff, replayed=replayed))
            for case, alerts in repo.cases_open_at(db, cutoff=cutoff)
        ],
        blacklist_added=[
            _entry_line(e, by=e.created_by, at=e.created_at, reason=e.reason)
            for e in repo.blacklist_added_between(db, start=start, end=end)
        ],
        blacklist_lifted=[
            _entry_line(e, by=e.lifted_by or "unknown", at=e.lifted_at or end, reason=e.lift_note)
            for e in repo.blacklist_lifted_between(db, start=start, end=end)
        ],
        calls_done=repo.calls_done_between(db, start=start, end=end),
    )


def read_daily_report(
    db: Session, *, day: date, zone: str, actor: StaffActor, now: datetime, fmt: str
) -> DailyReport:
    """The report, as read by a member of staff: the reading is audited (it shows who was
    flagged and who was blocked), in the same transaction."""
    report = daily_report(db, day=day, zone=zone)
    audit.record(
        db,
        actor=actor,
        action="report.read",
        target_kind="risk_report",
        target_id=day.isoformat(),
        now=now,
        data={"format": fmt, "alerts": len(report.alerts)},
    )
    return report


def _status_at(
    case: Case, *, cutoff: datetime, replayed: Mapping[int, Sequence[CaseEventKind]]
) -> CaseStatus:
    """The case's status at the close of the day, not now: the report reads the same
    whenever it is asked for."""
    if case.closed_at is not None and case.closed_at < cutoff:
        return case.status
    return status_after(replayed.get(case.id, ()), default=CaseStatus.OPEN)


def _case_line(case: Case, alerts: int, status: CaseStatus) -> CaseLine:
    return CaseLine(
        id=case.id,
        subject_kind=case.subject_kind,
        label=case.subject_label,
        score=case.score,
        alerts=alerts,
        status=status,
        opened_at=case.opened_at,
    )


def _entry_line(
    entry: BlacklistEntry, *, by: str, at: datetime, reason: str | None
) -> BlacklistLine:
    return BlacklistLine(
        id=entry.id,
        scope=entry.scope.value,
        label=entry.label,
        by=by,
        at=at,
        case=entry.case_ref,
        reason=reason,
        expires_at=entry.expires_at,
    )
