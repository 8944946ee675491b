"""Security headers on every response, and the CSRF tokens of the pages' forms.

Pages load nothing from outside the server: the Content-Security-Policy allows scripts,
styles, images and fonts from the server itself only. ``/docs`` and ``/redoc`` get a
policy of their own (Swagger UI and ReDoc set styles inline and ReDoc starts a worker from
a blob), still with nothing from outside.
"""

from __future__ import annotations

import hmac
import secrets
from hashlib import sha256

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

PAGE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; object-src 'none'"
)
DOCS_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self'; connect-src 'self'; worker-src 'self' blob:; "
    "frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)
DOCS_PATHS = ("/docs", "/redoc")
HSTS = "max-age=31536000; includeSubDomains"


def _is_https(scope: Scope) -> bool:
    return scope.get("scheme") == "https"


class SecurityHeaders:
    """Adds the policy, ``nosniff``, ``frame-ancestors``/``X-Frame-Options``, a referrer
    policy, and HSTS when served over HTTPS, to every HTTP response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = str(scope.get("path", ""))
        policy = DOCS_POLICY if path.startswith(DOCS_PATHS) else PAGE_POLICY
        https = _is_https(scope)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("Content-Security-Policy", policy)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("X-Frame-Options", "DENY")
                headers.setdefault("Referrer-Policy", "same-origin")
                if https:
                    headers.setdefault("Strict-Transport-Security", HSTS)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def csrf_token(*, secret: str, session_token: str) -> str:
    """The CSRF token of a signed-in page: bound to the session, so a token seen by one
    person is worth nothing in another's session, and none is stored."""
    return hmac.new(secret.encode(), b"csrf:" + session_token.encode(), sha256).hexdigest()


def csrf_matches(*, expected: str, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(expected, str(given))


def new_form_nonce() -> str:
    """A random value for the sign-in form's double-submit cookie (no session yet)."""
    return secrets.token_urlsafe(24)
