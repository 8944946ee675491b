"""Refusals on the patient pages render as a page in the page's language: a plain
sentence saying what happened and what to do next (``patient_errors.<code>``, else the
service's Chinese message, else the console's ``errors.<code>``, else its English), and
a way back. A blocked request (403 ``request_blocked``) says whom to contact, never what
was blocked. Other paths keep their handlers (JSON for the API, the console's pages). The
handling itself is the pages' one (``web/page_errors.py``); here is what the patients'
pages look like."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlsplit

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response

from fairslot.errors import DomainError
from fairslot.web import page_errors
from fairslot.web.page_errors import PageErrors, here
from fairslot.web.patient.deps import PatientSignInRequired
from fairslot.web.patient.pages import page, safe_next
from fairslot.web.templating import translator_for

TAG = "patient"


# Paths of the APIs and the console: an unknown address under them stays theirs.
OTHERS = ("/v1/", "/staff/", "/hospital/", "/console", "/static/", "/docs", "/redoc", "/openapi")


def is_patient_page(request: Request) -> bool:
    """A route of the patient pages (tagged ``patient``), or an unknown address a browser
    asked for outside the APIs (a page saying so beats a JSON answer)."""
    route = request.scope.get("route")
    if route is not None:
        return TAG in (getattr(route, "tags", None) or [])
    wants_page = "text/html" in request.headers.get("accept", "")
    return wants_page and not request.url.path.startswith(OTHERS)


def message_for(request: Request, *, code: str, detail: str, extra: dict[str, Any]) -> str:
    """The patients' own sentence for the code (with the limits it names), else the
    console's way (``page_errors.message_for``)."""
    t = translator_for(request)
    own = f"patient_errors.{code}"
    if t.has(own):
        settings = request.app.state.platform.settings
        return t(
            own,
            limit=settings.max_patients_per_account,
            per_phone=settings.max_accounts_per_phone,
            left=extra.get("left", ""),
            cutoff=settings.cancel_cutoff_minutes,
        )
    return page_errors.message_for(request, code=code, detail=detail, extra=extra)


def _back(request: Request) -> str:
    """Where the person came from on this site (the form they sent), else home."""
    referer = urlsplit(request.headers.get("referer", ""))
    if referer.netloc and referer.netloc != request.url.netloc:
        return "/"
    path = referer.path + (f"?{referer.query}" if referer.query else "")
    return safe_next(path) if referer.path else "/"


def refusal(request: Request, *, status: int, code: str, message: str) -> Response:
    user = getattr(request.state, "patient_user", None)
    return page(
        request,
        "patient/error.html",
        user,
        {"status": status, "code": code, "message": message, "back": _back(request)},
        status=status,
    )


def to_sign_in(request: Request, _exc: DomainError | None = None) -> Response:
    url = "/login" if request.method != "GET" else f"/login?next={quote(here(request))}"
    return RedirectResponse(url, status_code=303)


def _invalid(request: Request, _exc: RequestValidationError) -> str:
    return message_for(request, code="invalid_request", detail="", extra={})


PAGES = PageErrors(
    owns=is_patient_page,
    sign_in_required=PatientSignInRequired,
    to_sign_in=to_sign_in,
    message=message_for,
    refusal=refusal,
    invalid=_invalid,
)


def install(app: FastAPI) -> None:
    """Wrap the handlers installed before (the API's, the console's)."""
    page_errors.install(app, PAGES)
