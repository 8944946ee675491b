"""FHIR's ``POST [type]/_search``: the same search as ``GET [type]``, its parameters in
an ``application/x-www-form-urlencoded`` body (FHIR R4 asks servers to support both
forms, and ITI-118 repeats it for Appointment).

An ASGI step in front of the FHIR routes: it reads the form (bounded by the site's body
limit), appends it to the query string and hands the request on as the ``GET``, so
both forms run the one search route with the one set of rules.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

FORM = b"application/x-www-form-urlencoded"


class PostedSearch:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = str(scope.get("path", ""))
        if scope["type"] != "http" or scope["method"] != "POST" or not path.endswith("/_search"):
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        if not headers.get(b"content-type", b"").startswith(FORM):
            await self.app(scope, receive, send)  # answered as any unknown POST: 405
            return
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        query = b"&".join(q for q in (scope.get("query_string", b""), body.strip()) if q)
        as_get = {
            **scope,
            "method": "GET",
            "path": path.removesuffix("/_search"),
            "raw_path": path.removesuffix("/_search").encode(),
            "query_string": query,
        }

        async def empty() -> Message:
            return {"type": "http.request", "body": b"", "more_body": False}

        try:
            await self.app(as_get, empty, send)
        finally:
            # what routing found, for the access log and metrics reading the outer scope
            for key in ("route", "root_path"):
                if key in as_get:
                    scope[key] = as_get[key]
