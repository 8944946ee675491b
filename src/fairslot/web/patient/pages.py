"""Rendering a patient page and answering an action (post-redirect-get).

Every page gets, besides the translator: ``user`` (a :class:`PatientUser` or None),
``elder`` (the elder-friendly mode is on), ``done`` (the key of the message to show
after an action: ``patient_done.<key>``), ``zone``, ``here`` (the page's path, for the
switches) and ``demo`` (codes go to the server log: the sign-in pages say so).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse

from fairslot.web.patient.deps import ELDER_COOKIE, PatientUser, finish
from fairslot.web.templating import render


def elder_mode(request: Request) -> bool:
    return request.cookies.get(ELDER_COOKIE) == "1"


def page(
    request: Request,
    template: str,
    user: PatientUser | None,
    context: Mapping[str, Any] | None = None,
    *,
    active: str = "",
    status: int = 200,
) -> HTMLResponse:
    platform = request.app.state.platform
    response = render(
        request,
        template,
        {
            "user": user,
            "active": active,
            "done": request.query_params.get("done"),
            "elder": elder_mode(request),
            "zone": platform.settings.default_timezone,
            # The development sender writes codes to the server log: the pages say where.
            "demo": platform.settings.sms_sender == "log",
            "here": here(request),
            **(context or {}),
        },
        status=status,
    )
    finish(request, response)
    return response


def here(request: Request) -> str:
    """This page's address to come back to after a language or elder-mode switch: its query
    kept (a doctor list is ``/book?hospital=…&department=…``), the one-off ``done`` dropped."""
    query = [(k, v) for k, v in request.query_params.multi_items() if k != "done"]
    return request.url.path + (f"?{urlencode(query)}" if query else "")


def after(request: Request, url: str, *, done: str) -> RedirectResponse:
    """Post-redirect-get: the page to show after an action, with its message."""
    separator = "&" if "?" in url else "?"
    response = RedirectResponse(f"{url}{separator}{urlencode({'done': done})}", status_code=303)
    finish(request, response)
    return response


def safe_next(value: str | None, default: str = "/") -> str:
    """Only a path of this site (never another site, never the console)."""
    if value and value.startswith("/") and not value.startswith(("//", "/\\", "/console")):
        return value
    return default
