"""Jinja2 templates for every page: one environment, autoescaped, read from the package.

Shared building blocks (the layout, tables, description lists) are in ``web/templates``;
each audience's pages are beside its code (``web/console/templates``,
``web/patient/templates``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import ChoiceLoader, Environment, PackageLoader, StrictUndefined, select_autoescape

from fairslot.web.i18n import LANGUAGE_COOKIE, Translator, pick_language


@cache
def environment() -> Environment:
    env = Environment(
        loader=ChoiceLoader(
            [
                PackageLoader("fairslot.web", "templates"),
                PackageLoader("fairslot.web.console", "templates"),
                PackageLoader("fairslot.web.patient", "templates"),
            ]
        ),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["when"] = _when
    env.filters["day"] = _day
    env.filters["pct"] = _pct
    return env


def _when(value: datetime | None, zone: str = "Asia/Shanghai", seconds: bool = False) -> str:
    """An instant in the given zone (the hospital's), as staff read it."""
    if value is None:
        return "—"
    local = value.astimezone(ZoneInfo(zone))
    return local.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def _day(value: date | None) -> str:
    return value.isoformat() if value is not None else "—"


def _pct(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{value * 100:.{digits}f}%"


def translator_for(request: Request) -> Translator:
    cached = getattr(request.state, "translator", None)
    if isinstance(cached, Translator):
        return cached
    language = pick_language(
        query=request.query_params.get("lang"),
        cookie=request.cookies.get(LANGUAGE_COOKIE),
        accept=request.headers.get("accept-language"),
    )
    translator = Translator(language)
    request.state.translator = translator
    return translator


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any],
    *,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    t = translator_for(request)
    html = (
        environment()
        .get_template(template)
        .render(
            request=request,
            t=t,
            lang=t.language,
            htmx=request.headers.get("hx-request") == "true",
            **context,
        )
    )
    return HTMLResponse(html, status_code=status, headers=dict(headers or {}))
