"""Refusals on the patient pages render as a page in the page's language: a plain
sentence saying what happened and what to do next (``patient_errors.<code>``, else the
service's Chinese message, else the console's ``errors.<code>``, else its English), and
a way back. A blocked request (403 ``request_blocked``) says whom to contact, never what
was blocked. Other paths keep their handlers (JSON for the API, the console's pages)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, cast
from urllib.parse import quote, urlsplit

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from fairslot.errors import DomainError
from fairslot.web.patient.deps import PatientSignInRequired
from fairslot.web.patient.pages import page, safe_next
from fairslot.web.templating import translator_for

Handler = Callable[[Request, Any], Awaitable[Response]]
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
    t = translator_for(request)
    settings = request.app.state.platform.settings
    values = {
        "limit": settings.max_patients_per_account,
        "per_phone": settings.max_accounts_per_phone,
        "left": extra.get("left", ""),
        "cutoff": settings.cancel_cutoff_minutes,
    }
    own = f"patient_errors.{code}"
    if t.has(own):
        return t(own, **values)
    if t.language == "zh-CN" and isinstance(extra.get("detail_zh"), str):
        return str(extra["detail_zh"])
    shared = f"errors.{code}"
    return t(shared) if t.has(shared) else detail


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


def to_sign_in(request: Request) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    url = "/login" if request.method != "GET" else f"/login?next={quote(target)}"
    return RedirectResponse(url, status_code=303)


def install(app: FastAPI) -> None:
    """Wrap the handlers installed before (the API's, the console's)."""
    previous_domain = cast(Handler, app.exception_handlers[DomainError])
    previous_http = cast(Handler, app.exception_handlers[StarletteHTTPException])
    previous_invalid = cast(Handler, app.exception_handlers[RequestValidationError])

    @app.exception_handler(DomainError)
    async def domain(request: Request, exc: DomainError) -> Response:
        if not is_patient_page(request):
            return await previous_domain(request, exc)
        if isinstance(exc, PatientSignInRequired):
            return to_sign_in(request)
        message = message_for(request, code=exc.code, detail=exc.detail, extra=exc.extra)
        return refusal(request, status=exc.status, code=exc.code, message=message)

    @app.exception_handler(StarletteHTTPException)
    async def http(request: Request, exc: StarletteHTTPException) -> Response:
        if not is_patient_page(request):
            return await previous_http(request, exc)
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        message = message_for(request, code=code, detail=str(exc.detail), extra={})
        return refusal(request, status=exc.status_code, code=code, message=message)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        if not is_patient_page(request):
            return await previous_invalid(request, exc)
        message = message_for(request, code="invalid_request", detail="", extra={})
        return refusal(request, status=422, code="invalid_request", message=message)
