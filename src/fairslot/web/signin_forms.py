"""What every sign-in page does the same way, whoever signs in (staff with a password on
the console, patients with a one-time code on their pages): the sign-in form's CSRF token,
the session cookie it ends with, and the language switch.

A sign-in form has no session yet, so its CSRF token is a double-submit cookie
(:class:`FormNonce`): a random nonce in an HttpOnly, SameSite=Strict cookie scoped to the
sign-in pages and the same nonce in the form; a post whose two differ is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from fairslot.errors import Forbidden
from fairslot.web.i18n import LANGUAGE_COOKIE, LANGUAGES
from fairslot.web.security import csrf_matches, new_form_nonce

YEAR = 365 * 24 * 3600


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


@dataclass(frozen=True)
class FormNonce:
    """The double-submit CSRF token of one audience's sign-in forms."""

    cookie: str
    path: str  # the sign-in pages' path: the cookie goes nowhere else
    expired: str = "The form has expired; reload the page and try again."

    def new(self) -> str:
        """A nonce for a form about to be shown (then :meth:`set` on its response)."""
        return new_form_nonce()

    def set(self, request: Request, response: Response, nonce: str) -> None:
        response.set_cookie(
            self.cookie,
            nonce,
            httponly=True,
            samesite="strict",
            secure=_secure(request),
            path=self.path,
            max_age=3600,
        )

    def check(self, request: Request, given: str) -> None:
        """Refuse (403 ``csrf_failed``) a form whose token is not the cookie's."""
        if not csrf_matches(expected=request.cookies.get(self.cookie, ""), given=given):
            raise Forbidden(self.expired, code="csrf_failed")

    def clear(self, response: Response) -> None:
        """Signed in: the nonce has served."""
        response.delete_cookie(self.cookie, path=self.path)


def set_session_cookie(
    request: Request,
    response: Response,
    *,
    name: str,
    token: str,
    max_age: int,
    samesite: Literal["lax", "strict"],
) -> None:
    """The session's token in an HttpOnly cookie (Secure over HTTPS) for the whole site.
    ``max_age`` is relative: the browser's clock need not agree with the platform's."""
    response.set_cookie(
        name,
        token,
        httponly=True,
        samesite=samesite,
        secure=_secure(request),
        path="/",
        max_age=max_age,
    )


def signed_out(url: str, *, session_cookie: str) -> Response:
    """Where a person lands after signing out, the session's cookie gone."""
    response = RedirectResponse(url, status_code=303)
    response.delete_cookie(session_cookie, path="/")
    return response


def switch_language(request: Request, *, back_to: str) -> Response:
    """Back to ``back_to`` (already checked to be one of this site's pages) in the
    language asked for (``?to=``), kept in a cookie; an unknown language changes nothing."""
    wanted = request.query_params.get("to", "")
    response = RedirectResponse(back_to, status_code=303)
    if wanted in LANGUAGES:
        response.set_cookie(LANGUAGE_COOKIE, wanted, samesite="lax", path="/", max_age=YEAR)
    return response
