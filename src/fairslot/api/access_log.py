"""The structured access log: one JSON line per HTTP request on the ``fairslot.access``
logger (INFO), and the request's id in the ``X-Request-Id`` response header.

A line names the request by what the platform knows of it, never by what the caller
sent: the route *template* (``/v1/bookings/{booking_id}/confirm``, never the raw path or
its query string), the status, the latency, and who asked as the endpoints' dependencies
resolved it and left it on ``request.state``: ``channel_code`` (``api/deps.py::
current_channel``), ``hospital_code`` (``current_hospital``), ``staff_id``
(``api/staff_deps.py::current_staff``, ``web/console/deps.py::signed_in``) and
``log_subject`` (``api/deps.py::for_account``), written only as a keyed hash. No name, ID
number, phone, payment account, address or device id reaches the log.

A pure ASGI middleware: no thread hop and no extra task per request; the line is one dict
built once and serialised once, after the response.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from datetime import UTC, datetime
from typing import IO, Any

from starlette.routing import Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fairslot.crypto import Protector

ACCESS_LOGGER = "fairslot.access"
REQUEST_ID_HEADER = b"x-request-id"
# How every access line starts (its first key), for readers of a server's output.
ACCESS_LINE_START = '{"at":'
log = logging.getLogger(ACCESS_LOGGER)

# The hash of the subject is shortened: enough to follow one account through the log,
# not a key to join with the database's own keyed hashes (another purpose, too).
SUBJECT_HASH_CHARS = 16
_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


class AccessLog:
    """Log every HTTP request once it has been answered (or has failed: status 500)."""

    def __init__(self, app: ASGIApp, *, protector: Protector) -> None:
        self.app = app
        self.protector = protector

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        # Always our own: a caller's X-Request-Id could carry anything into the log.
        request_id = os.urandom(8).hex()
        state: dict[str, Any] = scope.setdefault("state", {})
        state["request_id"] = request_id
        root_path = str(scope.get("root_path", ""))
        status = 500
        id_header = (REQUEST_ID_HEADER, request_id.encode())

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                message["headers"] = [*message.get("headers", ()), id_header]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            if log.isEnabledFor(logging.INFO):
                elapsed = (time.perf_counter() - started) * 1000
                line = self._line(scope, state, root_path, request_id, status, elapsed)
                # The record is made directly: ``log.info`` would walk the stack for the
                # caller's file and line, which the line does not show.
                log.handle(log.makeRecord(ACCESS_LOGGER, logging.INFO, "", 0, line, (), None))

    def _line(
        self,
        scope: Scope,
        state: dict[str, Any],
        root_path: str,
        request_id: str,
        status: int,
        elapsed_ms: float,
    ) -> str:
        subject = state.get("log_subject")
        staff_id = state.get("staff_id")
        return _encode(
            {
                "at": datetime.now(UTC).isoformat(timespec="milliseconds"),
                "request_id": request_id,
                "method": str(scope.get("method", ""))[:16],
                "route": route_template(scope, root_path),
                "status": status,
                "ms": round(elapsed_ms, 1),
                "channel": state.get("channel_code"),
                "hospital": state.get("hospital_code"),
                "staff_id": staff_id if isinstance(staff_id, int) else None,
                "subject": (
                    self.protector.keyed_hash(str(subject), purpose="log")[:SUBJECT_HASH_CHARS]
                    if subject
                    else None
                ),
            }
        )


def route_template(scope: Scope, root_path: str = "") -> str:
    """The matched route's template under the mount points it was reached through
    (``/fhir/metadata``: a mounted app's routes know only their own part, the mounts add
    theirs to ``root_path``); a mount itself as ``/static/{path}``; ``-`` when no route
    was matched (a 404, or a refusal before routing such as BodyLimit's 413): the raw
    path may hold anything a caller typed."""
    route = scope.get("route")
    mounted = str(scope.get("root_path", ""))[len(root_path) :]
    template = getattr(route, "path_format", None) or getattr(route, "path", None)
    if isinstance(route, Mount) and isinstance(template, str):
        # the mount's own path is already the end of root_path, and in its template
        return mounted.removesuffix(route.path) + template
    if isinstance(template, str):
        return mounted + template
    return f"{mounted}/{{path}}" if mounted else "-"


def enable_access_log(stream: IO[str] | None = None) -> None:
    """Write the access log to ``stream`` (standard output by default), a bare JSON line
    each, whatever the rest of logging is set to (uvicorn runs at ``warning``). Called by
    ``fairslot serve`` and ``fairslot demo`` in every serving process; idempotent."""
    if any(getattr(h, "fairslot_access", False) for h in log.handlers):
        return
    handler = logging.StreamHandler(stream or sys.stdout)
    handler.setFormatter(logging.Formatter("%(message)s"))
    handler.fairslot_access = True  # type: ignore[attr-defined]
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False
