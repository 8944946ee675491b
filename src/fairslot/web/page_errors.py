"""Refusals rendered as pages for one audience's pages (the console's, the patients'), the
same way for each: a domain refusal, an HTTP error (404, 405) or an invalid form becomes a
page in the page's language; a request that must sign in first is sent to the sign-in
page; a request that is not one of the audience's pages is handed on to the handler
installed before (the API's JSON, or another audience's pages).

What differs per audience is given by :class:`PageErrors`; the wrapping of the handlers,
the codes of HTTP errors and the order in which a message is looked up live here once.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, cast

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from fairslot.errors import DomainError
from fairslot.web.templating import translator_for

Handler = Callable[[Request, Any], Awaitable[Response]]

HTTP_CODES = {404: "not_found", 405: "method_not_allowed"}


def message_for(request: Request, *, code: str, detail: str, extra: dict[str, Any]) -> str:
    """What a person reads: the Chinese message the service gave (on a Chinese page), or
    the catalogue's ``errors.<code>``, or the service's English sentence."""
    t = translator_for(request)
    if t.language == "zh-CN" and isinstance(extra.get("detail_zh"), str):
        return str(extra["detail_zh"])
    key = f"errors.{code}"
    return t(key) if t.has(key) else detail


def here(request: Request) -> str:
    """The address asked for, with its query: where to come back to after signing in."""
    return request.url.path + (f"?{request.url.query}" if request.url.query else "")


@dataclass(frozen=True)
class PageErrors:
    """How one audience's pages answer what went wrong."""

    # whether the request is one of this audience's pages (else: the previous handler)
    owns: Callable[[Request], bool]
    # the refusal that means "sign in first", and where it sends the person
    sign_in_required: type[DomainError]
    to_sign_in: Callable[[Request, DomainError], Response]
    # the sentence a person reads for a code (see :func:`message_for`)
    message: Callable[..., str]
    # the page (or fragment) that shows it
    refusal: Callable[..., Response]
    # the sentence for an invalid form
    invalid: Callable[[Request, RequestValidationError], str]


def install(app: FastAPI, pages: PageErrors) -> None:
    """Wrap the handlers installed before with ``pages``' own."""
    previous_domain = cast(Handler, app.exception_handlers[DomainError])
    previous_http = cast(Handler, app.exception_handlers[StarletteHTTPException])
    previous_invalid = cast(Handler, app.exception_handlers[RequestValidationError])

    @app.exception_handler(DomainError)
    async def domain(request: Request, exc: DomainError) -> Response:
        if not pages.owns(request):
            return await previous_domain(request, exc)
        if isinstance(exc, pages.sign_in_required):
            return pages.to_sign_in(request, exc)
        message = pages.message(request, code=exc.code, detail=exc.detail, extra=exc.extra)
        return pages.refusal(request, status=exc.status, code=exc.code, message=message)

    @app.exception_handler(StarletteHTTPException)
    async def http(request: Request, exc: StarletteHTTPException) -> Response:
        if not pages.owns(request):
            return await previous_http(request, exc)
        code = HTTP_CODES.get(exc.status_code, "http_error")
        message = pages.message(request, code=code, detail=str(exc.detail), extra={})
        return pages.refusal(request, status=exc.status_code, code=code, message=message)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        if not pages.owns(request):
            return await previous_invalid(request, exc)
        message = pages.invalid(request, exc)
        return pages.refusal(request, status=422, code="invalid_request", message=message)
