"""Refusals on console pages render as pages (or, for an HTMX request, as a message in the
page's flash area) instead of JSON; everything else keeps the API's JSON handlers. The
handling itself is the pages' one (``web/page_errors.py``); here is what the console's
pages look like."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response

from fairslot.errors import DomainError
from fairslot.web import page_errors
from fairslot.web.console.deps import SignInRequired
from fairslot.web.page_errors import PageErrors, here
from fairslot.web.templating import render, translator_for

PREFIX = "/console"

# The console's message for a code: the service's Chinese one, the catalogue's, its English.
message_for = page_errors.message_for


def is_console(request: Request) -> bool:
    path = request.url.path
    return path == PREFIX or path.startswith(PREFIX + "/")


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


def _to_sign_in(request: Request, exc: DomainError) -> Response:
    expired = bool(exc.extra.get("expired"))
    url = f"{PREFIX}/login?next={quote(here(request))}" + ("&expired=1" if expired else "")
    if request.headers.get("hx-request") == "true":
        return Response(status_code=401, headers={"HX-Redirect": url})
    if request.method != "GET":
        url = f"{PREFIX}/login" + ("?expired=1" if expired else "")
    return RedirectResponse(url, status_code=303)


def _invalid(request: Request, exc: RequestValidationError) -> str:
    """Staff are told which fields to correct."""
    fields = ", ".join(str(err.get("loc", ("", ""))[-1]) for err in exc.errors() if err.get("loc"))
    return translator_for(request)("errors.invalid_request", fields=fields or "—")


PAGES = PageErrors(
    owns=is_console,
    sign_in_required=SignInRequired,
    to_sign_in=_to_sign_in,
    message=message_for,
    refusal=refusal,
    invalid=_invalid,
)


def install(app: FastAPI) -> None:
    page_errors.install(app, PAGES)
