"""*Daily report* (reviewer, auditor, IT admin): the anomaly batch of a chosen local date —
the paper's four rules and the platform's own, each hit with its figure against the
threshold and its case — its pictures (loaded after the page, ``report_charts.py``), and
the CSV and xlsx files the staff API serves (``api/report_routes.py``), read through the
same audited service."""

from __future__ import annotations

import datetime as dt
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse

from fairslot.api.deps import DbDep, PlatformDep, commit, done
from fairslot.bootstrap import Platform
from fairslot.risk import report_files
from fairslot.risk.report import DailyReport, ReportNotFound
from fairslot.risk.report_service import read_daily_report
from fairslot.risk.settings import ring_settings, risk_settings
from fairslot.web.console import report_charts
from fairslot.web.console.deps import ConsoleUser, ReportReader
from fairslot.web.console.pages import page
from fairslot.web.console.report_view import CASES_SHOWN, arrange, neighbours

router = APIRouter(prefix="/console", include_in_schema=False)
router.include_router(report_charts.router)

OptionalDate = Annotated[dt.date | None, Query(alias="date")]
RequiredDate = Annotated[dt.date, Query(alias="date")]
# The report names flagged people (masked) and staff decisions: no cache may keep a copy.
_NO_STORE = {"Cache-Control": "no-store"}


def local_today(platform: Platform) -> dt.date:
    zone = ZoneInfo(platform.settings.default_timezone)
    return platform.clock.now().astimezone(zone).date()


def _read(db: DbDep, platform: Platform, user: ConsoleUser, day: dt.date, fmt: str) -> DailyReport:
    return read_daily_report(
        db,
        day=day,
        zone=platform.settings.default_timezone,
        actor=user.actor,
        now=platform.clock.now(),
        fmt=fmt,
    )


@router.get("/reports", response_class=HTMLResponse)
def report_page(
    request: Request, db: DbDep, platform: PlatformDep, user: ReportReader, day: OptionalDate = None
) -> HTMLResponse:
    today = local_today(platform)
    day = day or today - dt.timedelta(days=1)
    try:
        report: DailyReport | None = _read(db, platform, user, day, "html")
    except ReportNotFound:
        report = None  # the page says what to do instead of an error
    commit(request, db)
    before, after = neighbours(day, latest=today)
    settings = platform.settings
    response = page(
        request,
        "console/reports.html",
        user,
        {
            "day": day,
            "today": today,
            "before": before,
            "after": after,
            "view": arrange(report, risk=risk_settings(settings), ring=ring_settings(settings))
            if report is not None
            else None,
            "run_time": settings.risk_run_local_time,
            "cases_shown": CASES_SHOWN,
            "plots": report_charts.PLOTS,
        },
        active="reports",
    )
    response.headers.update(_NO_STORE)
    return response


def _download(content: bytes, *, media_type: str, name: str) -> Response:
    return Response(
        content=content,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{name}"', **_NO_STORE},
    )


@router.get("/reports/daily.csv")
def report_csv(
    request: Request, db: DbDep, platform: PlatformDep, user: ReportReader, day: RequiredDate
) -> Response:
    """The staff API's CSV (UTF-8 with a byte-order mark), audited the same way."""
    report = _read(db, platform, user, day, "csv")
    content = report_files.to_csv(report).encode("utf-8-sig")
    name = report_files.filename(day, "csv")
    return done(request, db, _download(content, media_type=report_files.CSV_MEDIA_TYPE, name=name))


@router.get("/reports/daily.xlsx")
def report_xlsx(
    request: Request, db: DbDep, platform: PlatformDep, user: ReportReader, day: RequiredDate
) -> Response:
    """The staff API's workbook, one sheet per section."""
    report = _read(db, platform, user, day, "xlsx")
    content = report_files.to_xlsx(report)
    name = report_files.filename(day, "xlsx")
    return done(request, db, _download(content, media_type=report_files.XLSX_MEDIA_TYPE, name=name))
