"""Refusals on console pages render as pages (or, for an HTMX request, as a message in the
page's flash area) instead of JSON; everything else keeps the API's JSON handlers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, cast
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from fairslot.errors import DomainError
from fairslot.web.console.deps import SignInRequired
from fairslot.web.templating import render, translator_for

Handler = Callable[[Request, Any], Awaitable[Response]]
PREFIX = "/console"


def is_console(request: Request) -> bool:
    path = request.url.path
    return path == PREFIX or path.startswith(PREFIX + "/")


def message_for(request: Request, *, code: str, detail: str, extra: dict[str, Any]) -> str:
    """What a person reads: the Chinese message the service gave, or the catalogue's
    message for the code, or the service's English sentence."""
    t = translator_for(request)
    if t.language == "zh-CN" and isinstance(extra.get("detail_zh"), str):
        return str(extra["detail_zh"])
    key = f"errors.{code}"
    return t(key) if t.has(key) else detail


def refusal(request: Request, *, status: int, code: str, message: str) -> Response:
    context = {"status": status, "code": code, "message": message}
    if request.headers.get("hx-request") == "true":
        return render(
            request,
            "components/alert.html",
            {**context, "kind": "error"},
            status=status,
            headers={"HX-Retarget": "#flash", "HX-Reswap": "innerHTML"},
        )
    return render(request, "error.html", context, status=status)


def _to_sign_in(request: Request, *, expired: bool) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    url = f"{PREFIX}/login?next={quote(target)}" + ("&expired=1" if expired else "")
    if request.headers.get("hx-request") == "true":
        return Response(status_code=401, headers={"HX-Redirect": url})
    if request.method != "GET":
        url = f"{PREFIX}/login" + ("?expired=1" if expired else "")
    return RedirectResponse(url, status_code=303)


def install(app: FastAPI) -> None:
    json_domain = cast(Handler, app.exception_handlers[DomainError])
    json_http = cast(Handler, app.exception_handlers[StarletteHTTPException])
    json_invalid = cast(Handler, app.exception_handlers[RequestValidationError])

    @app.exception_handler(DomainError)
    async def domain(request: Request, exc: DomainError) -> Response:
        if not is_console(request):
            return await json_domain(request, exc)
        if isinstance(exc, SignInRequired):
            return _to_sign_in(request, expired=bool(exc.extra.get("expired")))
        message = message_for(request, code=exc.code, detail=exc.detail, extra=exc.extra)
        return refusal(request, status=exc.status, code=exc.code, message=message)

    @app.exception_handler(StarletteHTTPException)
    async def http(request: Request, exc: StarletteHTTPException) -> Response:
        if not is_console(request):
            return await json_http(request, exc)
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        message = message_for(request, code=code, detail=str(exc.detail), extra={})
        return refusal(request, status=exc.status_code, code=code, message=message)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        if not is_console(request):
            return await json_invalid(request, exc)
        fields = ", ".join(
            str(err.get("loc", ("", ""))[-1]) for err in exc.errors() if err.get("loc")
        )
        t = translator_for(request)
        message = t("errors.invalid_request", fields=fields or "—")
        return refusal(request, status=422, code="invalid_request", message=message)
