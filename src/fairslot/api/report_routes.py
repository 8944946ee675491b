"""The daily risk report for staff: JSON, CSV and xlsx. Reviewers, auditors and IT read it;
every reading is audited (``report.read``), since the report says who was flagged."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from fairslot.api.deps import DbDep, PlatformDep, done
from fairslot.api.staff_deps import ReportReaderDep
from fairslot.risk import report_files
from fairslot.risk.report import DailyReport
from fairslot.risk.report_service import read_daily_report
from fairslot.risk.report_shapes import DailyReportJSON, as_json

router = APIRouter(prefix="/staff/v1/reports", tags=["staff reports"])

ReportDate = Annotated[
    dt.date, Query(alias="date", description="the local date of the risk run, YYYY-MM-DD")
]
# The report names flagged people (masked) and staff decisions: no cache may keep a copy.
_NO_STORE = {"Cache-Control": "no-store"}
_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "no risk run for that date (`report_not_found`)"}
}


def _read(
    db: DbDep, platform: PlatformDep, actor: ReportReaderDep, day: dt.date, fmt: str
) -> DailyReport:
    return read_daily_report(
        db,
        day=day,
        zone=platform.settings.default_timezone,
        actor=actor,
        now=platform.clock.now(),
        fmt=fmt,
    )


def _download(content: bytes, *, media_type: str, name: str) -> Response:
    return Response(
        content=content,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{name}"', **_NO_STORE},
    )


@router.get("/daily", response_model=DailyReportJSON, responses=_NOT_FOUND)
def daily(
    request: Request,
    response: Response,
    db: DbDep,
    platform: PlatformDep,
    actor: ReportReaderDep,
    day: ReportDate,
) -> DailyReportJSON:
    """The report for one local date: the run, alerts per rule (every rule, zeros too), the
    alerts, cases opened, closed and still open, blacklist changes and follow-up calls."""
    report = _read(db, platform, actor, day, "json")
    response.headers.update(_NO_STORE)
    return done(request, db, as_json(report))


@router.get(
    "/daily.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}, **_NOT_FOUND},
)
def daily_csv(
    request: Request, db: DbDep, platform: PlatformDep, actor: ReportReaderDep, day: ReportDate
) -> Response:
    """The report as CSV: one block per section (title line, header, rows). UTF-8 with a
    byte-order mark, so a spreadsheet shows the Chinese text right."""
    report = _read(db, platform, actor, day, "csv")
    content = report_files.to_csv(report).encode("utf-8-sig")
    name = report_files.filename(day, "csv")
    return done(request, db, _download(content, media_type=report_files.CSV_MEDIA_TYPE, name=name))


@router.get(
    "/daily.xlsx",
    response_class=Response,
    responses={200: {"content": {report_files.XLSX_MEDIA_TYPE: {}}}, **_NOT_FOUND},
)
def daily_xlsx(
    request: Request, db: DbDep, platform: PlatformDep, actor: ReportReaderDep, day: ReportDate
) -> Response:
    """The report as an xlsx workbook, one sheet per section."""
    report = _read(db, platform, actor, day, "xlsx")
    content = report_files.to_xlsx(report)
    name = report_files.filename(day, "xlsx")
    return done(request, db, _download(content, media_type=report_files.XLSX_MEDIA_TYPE, name=name))
