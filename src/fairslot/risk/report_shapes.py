"""The daily risk report in the shapes it leaves in: six tables (the CSV blocks, the xlsx
sheets, the CLI's tables) and JSON. Pure: no I/O. Times leave in the report's zone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from typing_extensions import TypedDict  # pydantic needs it on Python < 3.12

from fairslot.cases.states import CaseStatus
from fairslot.risk.report import BlacklistLine, CaseLine, DailyReport

Cell = str | int | float | datetime | None
"""A cell of a section. Datetimes are aware and in the report's zone; each renderer writes
them its own way (text in CSV, a zone-less datetime in xlsx)."""


@dataclass(frozen=True)
class Section:
    name: str  # a short key: also the xlsx sheet name
    title: str
    headers: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]


def summary_rows(report: DailyReport) -> list[tuple[str, Cell]]:
    """The summary as (label, value) pairs."""
    run, tz = report.run, ZoneInfo(report.zone)

    def at(value: datetime | None) -> datetime | None:
        return value.astimezone(tz) if value is not None else None

    return [
        ("report date", report.day.isoformat()),
        ("time zone", report.zone),
        ("window start", at(run.window_start)),
        ("window end", at(run.window_end)),
        ("run started", at(run.started_at)),
        ("run finished", at(run.finished_at)),
        ("times run", run.runs),
        ("run by", run.actor),
        ("bookings seen", run.bookings_seen),
        ("ledger events seen", run.events_seen),
        ("rule hits", run.hits),
        ("rings flagged", run.rings_flagged),
        ("alerts", len(report.alerts)),
        ("cases opened", len(report.opened)),
        ("cases confirmed", report.closed_as(CaseStatus.CONFIRMED)),
        ("cases dismissed", report.closed_as(CaseStatus.DISMISSED)),
        ("cases still open", len(report.still_open)),
        ("blacklist entries added", len(report.blacklist_added)),
        ("blacklist entries lifted", len(report.blacklist_lifted)),
        ("follow-up calls done", sum(c.total for c in report.calls)),
    ]


def sections(report: DailyReport) -> tuple[Section, ...]:
    """The report as six tables: summary, rule counts, alerts, cases, blacklist, calls."""
    tz = ZoneInfo(report.zone)

    def at(value: datetime | None) -> datetime | None:
        return value.astimezone(tz) if value is not None else None

    def case_row(kind: str, c: CaseLine) -> tuple[Cell, ...]:
        status, opened = c.status.value, at(c.opened_at)
        return (
            kind,
            c.id,
            status,
            c.subject_kind,
            c.label,
            c.score,
            c.alerts,
            opened,
            None,
            None,
            None,
        )

    cases = (
        *(case_row("opened", c) for c in report.opened),
        *(
            (
                "closed",
                c.id,
                c.outcome.value,
                c.subject_kind,
                c.label,
                c.score,
                c.alerts,
                None,
                at(c.closed_at),
                c.by,
                c.reason,
            )
            for c in report.closed
        ),
        *(case_row("still open", c) for c in report.still_open),
    )
    blacklist = tuple(
        (change, e.id, e.scope, e.label, e.by, at(e.at), e.case, e.reason, at(e.expires_at))
        for change, entries in (
            ("added", report.blacklist_added),
            ("lifted", report.blacklist_lifted),
        )
        for e in entries
    )
    return (
        Section("summary", "Summary", ("item", "value"), tuple(summary_rows(report))),
        Section("rules", "Rule counts", ("rule", "alerts"), report.rule_counts),
        Section(
            "alerts",
            "Alerts",
            ("alert", "rule", "entity", "label", "score", "explanation", "bookings", "case"),
            tuple(
                (
                    a.id,
                    a.rule,
                    a.entity_kind,
                    a.label,
                    a.score,
                    a.explanation,
                    a.bookings,
                    a.case_id,
                )
                for a in report.alerts
            ),
        ),
        Section(
            "cases",
            "Cases",
            (
                "list",
                "case",
                "status",
                "subject",
                "label",
                "score",
                "alerts",
                "opened at",
                "closed at",
                "decided by",
                "reason",
            ),
            cases,
        ),
        Section(
            "blacklist",
            "Blacklist",
            ("change", "entry", "scope", "label", "by", "at", "case", "reason or check", "expires"),
            blacklist,
        ),
        Section(
            "calls",
            "Calls",
            ("outcome", "flagged", "sample", "total"),
            tuple((c.outcome.value, c.flagged, c.sample, c.total) for c in report.calls),
        ),
    )


class RunJSON(TypedDict):
    run_date: str
    window_start: str
    window_end: str
    started_at: str
    finished_at: str | None
    bookings_seen: int
    events_seen: int
    hits: int
    rings_flagged: int
    runs: int
    actor: str


class RuleCountJSON(TypedDict):
    rule: str
    alerts: int


class AlertJSON(TypedDict):
    id: int
    rule: str
    entity_kind: str
    label: str
    score: float
    explanation: str
    bookings: int
    case_id: int | None


class CaseJSON(TypedDict):
    id: int
    subject_kind: str
    label: str
    score: float
    alerts: int
    status: str
    opened_at: str


class ClosedCaseJSON(TypedDict):
    id: int
    subject_kind: str
    label: str
    score: float
    alerts: int
    outcome: str
    by: str
    reason: str | None
    closed_at: str


class CasesJSON(TypedDict):
    opened: list[CaseJSON]
    closed: list[ClosedCaseJSON]
    still_open: list[CaseJSON]


class BlacklistLineJSON(TypedDict):
    id: int
    scope: str
    label: str
    by: str
    at: str
    case: str | None
    reason: str | None
    expires_at: str | None


class BlacklistJSON(TypedDict):
    added: list[BlacklistLineJSON]
    lifted: list[BlacklistLineJSON]


class CallCountJSON(TypedDict):
    outcome: str
    flagged: int
    sample: int
    total: int


class SummaryJSON(TypedDict):
    alerts: int
    cases_opened: int
    cases_confirmed: int
    cases_dismissed: int
    cases_still_open: int
    blacklist_added: int
    blacklist_lifted: int
    calls_done: int


class DailyReportJSON(TypedDict):
    date: str
    timezone: str
    summary: SummaryJSON
    run: RunJSON
    rule_counts: list[RuleCountJSON]
    alerts: list[AlertJSON]
    cases: CasesJSON
    blacklist: BlacklistJSON
    calls: list[CallCountJSON]


def as_json(report: DailyReport) -> DailyReportJSON:
    """The report as JSON-ready data; times are ISO 8601 with the report zone's offset."""
    tz = ZoneInfo(report.zone)

    def at(value: datetime) -> str:
        return value.astimezone(tz).isoformat()

    def maybe(value: datetime | None) -> str | None:
        return at(value) if value is not None else None

    def case(c: CaseLine) -> CaseJSON:
        return {
            "id": c.id,
            "subject_kind": c.subject_kind,
            "label": c.label,
            "score": c.score,
            "alerts": c.alerts,
            "status": c.status.value,
            "opened_at": at(c.opened_at),
        }

    def entry(e: BlacklistLine) -> BlacklistLineJSON:
        return {
            "id": e.id,
            "scope": e.scope,
            "label": e.label,
            "by": e.by,
            "at": at(e.at),
            "case": e.case,
            "reason": e.reason,
            "expires_at": maybe(e.expires_at),
        }

    run = report.run
    return {
        "date": report.day.isoformat(),
        "timezone": report.zone,
        "summary": {
            "alerts": len(report.alerts),
            "cases_opened": len(report.opened),
            "cases_confirmed": report.closed_as(CaseStatus.CONFIRMED),
            "cases_dismissed": report.closed_as(CaseStatus.DISMISSED),
            "cases_still_open": len(report.still_open),
            "blacklist_added": len(report.blacklist_added),
            "blacklist_lifted": len(report.blacklist_lifted),
            "calls_done": sum(c.total for c in report.calls),
        },
        "run": {
            "run_date": run.run_date.isoformat(),
            "window_start": at(run.window_start),
            "window_end": at(run.window_end),
            "started_at": at(run.started_at),
            "finished_at": maybe(run.finished_at),
            "bookings_seen": run.bookings_seen,
            "events_seen": run.events_seen,
            "hits": run.hits,
            "rings_flagged": run.rings_flagged,
            "runs": run.runs,
            "actor": run.actor,
        },
        "rule_counts": [{"rule": rule, "alerts": n} for rule, n in report.rule_counts],
        "alerts": [
            {
                "id": a.id,
                "rule": a.rule,
                "entity_kind": a.entity_kind,
                "label": a.label,
                "score": a.score,
                "explanation": a.explanation,
                "bookings": a.bookings,
                "case_id": a.case_id,
            }
            for a in report.alerts
        ],
        "cases": {
            "opened": [case(c) for c in report.opened],
            "closed": [
                {
                    "id": c.id,
                    "subject_kind": c.subject_kind,
                    "label": c.label,
                    "score": c.score,
                    "alerts": c.alerts,
                    "outcome": c.outcome.value,
                    "by": c.by,
                    "reason": c.reason,
                    "closed_at": at(c.closed_at),
                }
                for c in report.closed
            ],
            "still_open": [case(c) for c in report.still_open],
        },
        "blacklist": {
            "added": [entry(e) for e in report.blacklist_added],
            "lifted": [entry(e) for e in report.blacklist_lifted],
        },
        "calls": [
            {"outcome": c.outcome.value, "flagged": c.flagged, "sample": c.sample, "total": c.total}
            for c in report.calls
        ],
    }
