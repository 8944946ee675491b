"""*Quality metrics* (reviewer, auditor, IT admin): the Tulip report's figures for a
period — booking success, time to book, DAU/MAU, the share of active accounts that book,
retention, no-shows, scarce slots taken by identities later blacklisted — overall, per
hospital and per channel, and a 30-day trend picture. The figures are the metrics domain's
(``metrics/service.py``), read and audited exactly as the staff API reads them
(``api/metrics_routes.py``)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse

from fairslot import plotting
from fairslot.api.deps import DbDep, PlatformDep, commit, done
from fairslot.availability.catalog import hospitals_list
from fairslot.channels import service as channels
from fairslot.errors import InvalidInput
from fairslot.metrics import service as metrics
from fairslot.metrics.schemas import QualityReport
from fairslot.web.console import metrics_chart
from fairslot.web.console.deps import ReportReader
from fairslot.web.console.errors import message_for
from fairslot.web.console.pages import page
from fairslot.web.i18n import Translator
from fairslot.web.templating import translator_for

router = APIRouter(prefix="/console", include_in_schema=False)

# Plain strings: an emptied date field or the "all" choice of a list arrives as "".
Text = Annotated[str, Query(max_length=16)]
SVG_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
    "Cache-Control": "private, max-age=300",
}
# The figures name no one, but they are read under audit like the report: no shared cache.
_NO_STORE = {"Cache-Control": "no-store"}


def _invalid(field: str) -> RequestValidationError:
    return RequestValidationError(
        [{"loc": ("query", field), "msg": "invalid value", "type": "value_error"}]
    )


def _date(value: str, field: str) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise _invalid(field) from None


def _id(value: str, field: str) -> int | None:
    if not value:
        return None
    if not value.isdigit() or not 1 <= int(value) < 2**31:
        raise _invalid(field)
    return int(value)


@router.get("/metrics", response_class=HTMLResponse)
def metrics_page(
    request: Request,
    db: DbDep,
    platform: PlatformDep,
    user: ReportReader,
    date_from: Text = "",
    date_to: Text = "",
    hospital_id: Text = "",
    channel_id: Text = "",
) -> HTMLResponse:
    now, tz = platform.clock.now(), platform.settings.default_timezone
    first, last = metrics.period_or_default(
        now=now,
        tz=tz,
        date_from=_date(date_from, "date_from"),
        date_to=_date(date_to, "date_to"),
    )
    hospital, channel = _id(hospital_id, "hospital_id"), _id(channel_id, "channel_id")
    report: QualityReport | None = None
    refused: str | None = None
    try:
        report = metrics.read_quality(
            db,
            date_from=first,
            date_to=last,
            tz=tz,
            now=now,
            protector=platform.protector,
            actor=user.actor,
            hospital_id=hospital,
            channel_id=channel,
        )
    except InvalidInput as exc:  # a period the person can fix: keep the form with the reason
        db.rollback()
        refused = message_for(request, code=exc.code, detail=exc.detail, extra=exc.extra)
    hospitals = hospitals_list(db, city=None, grade=None)
    all_channels = channels.list_channels(db, include_inactive=True)
    commit(request, db)
    trend = {"end": last.isoformat(), "hospital_id": hospital or "", "channel_id": channel or ""}
    trend_url = "/console/metrics/trend.svg?" + urlencode(
        {**trend, "lang": translator_for(request).language}
    )
    response = page(
        request,
        "console/metrics.html",
        user,
        {
            "first": first,
            "last": last,
            "tz": tz,
            "hospital": hospital,
            "channel": channel,
            "hospitals": hospitals,
            "channels": all_channels,
            "report": report,
            "refused": refused,
            "trend_days": metrics.DEFAULT_DAYS,
            "trend_url": trend_url,
            "chart": metrics_chart.SIZE_PX,
        },
        active="metrics",
        status=422 if refused else 200,
    )
    response.headers.update(_NO_STORE)
    return response


def _chart_text(request: Request) -> Translator:
    t = translator_for(request)
    return t if plotting.has_cjk() or t.language == "en" else Translator("en")


@router.get("/metrics/trend.svg")
def trend_chart(
    request: Request,
    db: DbDep,
    platform: PlatformDep,
    user: ReportReader,
    end: Text = "",
    hospital_id: Text = "",
    channel_id: Text = "",
) -> Response:
    """The 30 days ending with ``end`` (default: yesterday), drawn from the domain's
    trend (audited as the API's trend reading is)."""
    now, tz = platform.clock.now(), platform.settings.default_timezone
    last = metrics.period_or_default(now=now, tz=tz, date_to=_date(end, "end"))[1]
    rows = metrics.read_trend(
        db,
        end=last,
        days=metrics.DEFAULT_DAYS,
        tz=tz,
        now=now,
        protector=platform.protector,
        actor=user.actor,
        hospital_id=_id(hospital_id, "hospital_id"),
        channel_id=_id(channel_id, "channel_id"),
    )
    svg = metrics_chart.trend_svg(rows, t=_chart_text(request))
    return done(
        request,
        db,
        Response(content=svg, media_type=plotting.SVG_MEDIA_TYPE, headers=SVG_HEADERS),
    )
