"""The daily report's pictures, one SVG each (``image/svg+xml``), drawn on the server
(``risk/report_plots.py``) from counts (``risk/report_activity_service.py``). The page
shows them with ``<img loading="lazy">``: it appears at once and each picture follows
when drawn, however busy the day was.

Each picture is a count of requests or bookings, naming nobody, so reading one is not
audited as the report is; the role check is the report's."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy.orm import Session

from fairslot import plotting
from fairslot.api.deps import DbDep, PlatformDep, done
from fairslot.bootstrap import Platform
from fairslot.risk import report_activity_service as figures
from fairslot.risk import report_plots
from fairslot.risk.report_activity import Taker
from fairslot.web.console.deps import ReportReader
from fairslot.web.i18n import Translator
from fairslot.web.templating import translator_for

router = APIRouter(include_in_schema=False)

RequiredDate = Annotated[dt.date, Query(alias="date")]
# The picture is a file the browser shows as an image: no script may run in it, and the
# drawing's own inline styles are allowed (the page's policy forbids them elsewhere).
SVG_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
    "Cache-Control": "private, max-age=300",
}


@dataclass(frozen=True)
class Plot:
    name: str  # the route's file name and the catalogue key reports.plot.<name>_*
    width: int  # pixels, as drawn
    height: int


def _pixels(size: tuple[float, float]) -> tuple[int, int]:
    return round(size[0] * 96), round(size[1] * 96)


PLOTS: tuple[Plot, ...] = (
    Plot("release", *_pixels(report_plots.WIDE)),
    Plot("day", *_pixels(report_plots.HALF)),
    Plot("refusals", *_pixels(report_plots.HALF)),
    Plot("scarce", *_pixels(report_plots.WIDE)),
)


def _text(request: Request) -> Translator:
    """The page's language, unless the server has no Chinese font: then English, so a
    picture never shows empty boxes."""
    t = translator_for(request)
    return t if plotting.has_cjk() or t.language == "en" else Translator("en")


def _svg(request: Request, db: Session, content: bytes) -> Response:
    return done(
        request,
        db,
        Response(content=content, media_type=plotting.SVG_MEDIA_TYPE, headers=SVG_HEADERS),
    )


def _activity_text(t: Translator, title: str) -> report_plots.ActivityText:
    return report_plots.ActivityText(
        title=t(title),
        lookups=t("reports.plot.lookups"),
        actions=t("reports.plot.actions"),
        refused=t("reports.plot.refused"),
        booked=t("reports.plot.booked"),
        requests_axis=t("reports.plot.requests_axis"),
        booked_axis=t("reports.plot.booked_axis"),
        release=t("reports.plot.release_at"),
        empty=t("reports.plot.nothing"),
        no_requests=t("reports.plot.no_requests"),
        no_bookings=t("reports.plot.no_bookings"),
    )


def _zone(platform: Platform) -> str:
    return platform.settings.default_timezone


@router.get("/reports/plots/release.svg")
def release_plot(
    request: Request, db: DbDep, platform: PlatformDep, user: ReportReader, day: RequiredDate
) -> Response:
    zone = _zone(platform)
    data = figures.release_hour(db, day=day, zone=zone)
    text = _activity_text(_text(request), "reports.plot.release_title")
    svg = report_plots.activity_svg(data, zone=zone, text=text, size=report_plots.WIDE)
    return _svg(request, db, svg)


@router.get("/reports/plots/day.svg")
def day_plot(
    request: Request, db: DbDep, platform: PlatformDep, user: ReportReader, day: RequiredDate
) -> Response:
    zone = _zone(platform)
    data = figures.whole_day(db, day=day, zone=zone)
    text = _activity_text(_text(request), "reports.plot.day_title")
    svg = report_plots.activity_svg(data, zone=zone, text=text, size=report_plots.HALF)
    return _svg(request, db, svg)


@router.get("/reports/plots/refusals.svg")
def refusals_plot(
    request: Request, db: DbDep, platform: PlatformDep, user: ReportReader, day: RequiredDate
) -> Response:
    t = _text(request)
    data = figures.refusals_of_day(db, day=day, zone=_zone(platform))
    names = {code: _refusal_name(t, code) for code, _ in data.reasons}
    text = report_plots.BarsText(
        title=t("reports.plot.refusals_title"),
        axis=t("reports.plot.refusals_axis"),
        empty=t("reports.plot.no_refusals"),
    )
    svg = report_plots.refusals_svg(data, names=names, text=text, size=report_plots.HALF)
    return _svg(request, db, svg)


def _refusal_name(t: Translator, code: str) -> str:
    key = f"reports.refusal.{code}"
    return t(key) if t.has(key) else code


@router.get("/reports/plots/scarce.svg")
def scarce_plot(
    request: Request, db: DbDep, platform: PlatformDep, user: ReportReader, day: RequiredDate
) -> Response:
    t = _text(request)
    data = figures.scarce_takers_of_day(
        db, day=day, zone=_zone(platform), protector=platform.protector
    )
    text = report_plots.BarsText(
        title=t("reports.plot.scarce_title"),
        axis=t("reports.plot.scarce_axis"),
        empty=t("reports.plot.no_scarce"),
    )
    svg = report_plots.scarce_svg(
        data,
        names={taker: t(f"reports.taker.{taker.value}") for taker in Taker},
        other=t("reports.plot.other"),
        text=text,
        size=report_plots.WIDE,
    )
    return _svg(request, db, svg)
