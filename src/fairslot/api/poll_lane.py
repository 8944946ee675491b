"""The radar's poll answered on the event loop when everything it needs is in memory.

At release time most channel requests are ``GET /v1/availability`` polls asking what a
poll asked a moment ago. Through FastAPI such a poll solves five dependencies, makes three
trips to the thread pool (the session's generator twice, the endpoint once) and opens a
session that, with the answer recalled, never reaches the database. This lane, an ASGI
middleware just outside FastAPI's router, answers it directly when:

* the request is exactly a poll: ``GET /v1/availability`` with each known parameter once,
  in its plain form (a decimal department, ``YYYY-MM-DD`` dates, a known title);
* its channel key is recalled (``memos.channels``, as ``api/deps.py::current_channel``
  finds it) and active, and its end-user headers are within their limits;
* the answer is recalled (``availability/recall.py``).

Anything else — a missing or unknown key, a parameter FastAPI would read differently or
refuse — goes on to the route untouched, before anything is counted. An answer not
recalled is read through the route by the first poll that asks; the polls asking the same
meanwhile are answered here, with the answer that lapsed less than a lifetime ago if there
is one (``memo.py``: two lifetimes at most, never past a change of this process), else once
that read is done (at most ``REFILL_WAIT_S``), instead of each reading it again through the
route as the memo lapses under load.

What the lane does, it does with the route's own pieces: the end user's context and
rate-limit subjects (``deps.end_user``, ``deps.count``), the request's record
(``audit/service.py``: batched when it may wait, else written at once in the thread
pool), the refusal's body (``api/errors.py::domain_response``) and the recalled JSON. So
the answer, its headers, its record, its rate-limit hit, the access log line and the
metrics' route are the route's (``tests/api/test_poll_lane.py``).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable
from contextlib import suppress
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from urllib.parse import parse_qsl

from fastapi.routing import APIRoute, APIRouter
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from fairslot.api import channel_booking
from fairslot.api.deps import count, end_user
from fairslot.api.errors import busy_response, domain_response
from fairslot.audit import service as audit
from fairslot.audit.service import PendingRecord
from fairslot.availability import recall
from fairslot.bootstrap import Platform
from fairslot.context import RequestContext
from fairslot.crypto import hash_api_key
from fairslot.errors import DomainError
from fairslot.gate.ratelimit import RateLimited, Subject
from fairslot.hospitals.models import DoctorTitle
from fairslot.observability.http import REFUSAL_KEY

log = logging.getLogger(__name__)

PATH = "/v1/availability"
_PARAMS = frozenset({"department_id", "date_from", "date_to", "title"})
_DEPARTMENT = re.compile(r"[1-9][0-9]{0,9}")
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_TITLES = {title.value: title for title in DoctorTitle}
# The route's header limits (api/deps.py::request_context): longer goes to the route.
_HEADER_LIMITS = {b"x-device-id": 128, b"x-wifi-id": 128, b"x-end-user-ip": 64}
# How long a poll waits for another's read of the same answer before asking the route.
REFILL_WAIT_S = 1.0


@dataclass(frozen=True)
class Asked:
    """A poll the lane may answer: its memo key, its channel and end user."""

    key: recall.AvailabilityKey
    channel_code: str
    ctx: RequestContext
    subjects: list[Subject]
    at: datetime


class PollLane:
    """Answer a recalled poll without FastAPI; everything else goes on to ``app``."""

    def __init__(self, app: ASGIApp, *, platform: Platform) -> None:
        self.app = app
        self.platform = platform
        # The poll's route: the access log's and the metrics' template, the refusal
        # record's action.
        self.route = route_of(channel_booking.router, PATH, "GET")
        self.answered = 0  # polls this lane answered (read by tests)
        # The polls now reading an answer through the route, by memo key.
        self._refills: dict[recall.AvailabilityKey, asyncio.Future[None]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope.get("path") != PATH
            or scope.get("method") != "GET"
            or scope.get("root_path")
        ):
            await self.app(scope, receive, send)
            return
        asked = self._asked(scope)
        if asked is None:
            await self.app(scope, receive, send)
            return
        found = self._recalled(asked)
        if found is None:
            refill = self._refills.get(asked.key)
            if refill is None:
                # This poll reads the answer through the route, which recalls it for
                # the polls that arrive meanwhile instead of each reading it too.
                await self._refill(asked.key, scope, receive, send)
                return
            # Meanwhile: the answer that lapsed less than a lifetime ago, if there is one
            # (a process's own change clears it), else the one being read.
            found = self._recalled(asked, grace=True)
            if found is None:
                with suppress(TimeoutError):
                    await asyncio.wait_for(asyncio.shield(refill), REFILL_WAIT_S)
                found = self._recalled(asked)
            if found is None:  # the route refused it, or is slow: the route decides
                await self.app(scope, receive, send)
                return
        self.answered += 1
        answer = await answered(self._answer(scope, asked, found))
        await answer(scope, receive, send)

    def _asked(self, scope: Scope) -> Asked | None:
        """What the poll asks and who asks it, read without counting anything; None when
        the route must answer (see the module's doc)."""
        platform = self.platform
        now = platform.clock.now()
        poll = _poll(scope.get("query_string", b""))
        headers = request_headers(scope)
        if poll is None or headers is None or b"x-channel-key" not in headers:
            return None
        channel = platform.memos.channels.get(
            hash_api_key(headers[b"x-channel-key"].decode("latin-1")), now=now
        )
        if channel is None or not channel.active:
            return None
        department_id, date_from, date_to, title = poll
        # The arrival is stamped here, before any wait for a refill (deps.end_user).
        found = end_user_of(scope, platform, headers, channel_id=channel.id)
        if found is None:
            return None
        ctx, subjects = found
        key = recall.key_of(
            department_id=department_id,
            date_from=date_from,
            date_to=date_to,
            title=title,
            channel_id=channel.id,
        )
        return Asked(key=key, channel_code=channel.code, ctx=ctx, subjects=subjects, at=now)

    def _recalled(self, asked: Asked, *, grace: bool = False) -> recall.Recalled | None:
        memo = self.platform.memos.availability
        return memo.get(
            asked.key, now=self.platform.clock.now(), grace=memo.ttl if grace else timedelta(0)
        )

    async def _refill(
        self, key: recall.AvailabilityKey, scope: Scope, receive: Receive, send: Send
    ) -> None:
        """Hand the poll to the route; polls of ``key`` arriving meanwhile wait for it."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._refills[key] = done
        try:
            await self.app(scope, receive, send)
        finally:
            del self._refills[key]
            done.set_result(None)

    async def _answer(self, scope: Scope, asked: Asked, found: recall.Recalled) -> Response:
        """Count the poll against its limits and record it, as the route would; its
        answer (or the route's rate-limit refusal)."""
        platform, route = self.platform, self.route
        state = scope.setdefault("state", {})
        scope["route"] = route
        state["channel_code"] = asked.channel_code  # for the access log (api/access_log.py)
        try:
            await count(platform, asked.subjects)
        except RateLimited as exc:
            # The route's refusal: the record under its code (all that is written, as
            # after the route's rollback), the same body and header.
            refused = PendingRecord(
                action=route.name[:32], at=platform.clock.now(), ctx=asked.ctx, alone=True
            )
            await record(platform, refused, exc.code)
            state[REFUSAL_KEY] = exc.code
            return domain_response(exc)
        # A read: its record is all it writes (as channel_booking.released records it).
        await record(
            platform,
            PendingRecord(action="availability", at=asked.at, ctx=asked.ctx, alone=True),
            "ok",
        )
        return Response(found.json(), media_type="application/json")


async def record(platform: Platform, pending: PendingRecord, outcome: str) -> None:
    """Record a request a lane answered: into the next batch when it may wait, else now."""
    if not audit.deferred(pending, outcome=outcome, buffer=platform.records):
        await _write_now(platform, pending, outcome)


async def answered(answer: Awaitable[Response]) -> Response:
    """A lane's answer, or the route's 503 ``busy`` when the database did not answer in
    time (writing the request's record now: ``api/errors.py``)."""
    try:
        return await answer
    except (OperationalError, PoolTimeout) as exc:
        log.warning("database busy: %s", type(exc).__name__)
        return busy_response()


async def _write_now(platform: Platform, pending: PendingRecord, outcome: str) -> None:
    """Insert the record now, in a session of its own on a worker thread (one trip,
    holding no connection while it waits for the thread)."""

    def write() -> None:
        with platform.sessions() as db:
            audit.write(db, pending=pending, outcome=outcome, buffer=None)
            db.commit()

    await run_in_threadpool(write)


def route_of(router: APIRouter, path: str, method: str) -> APIRoute:
    """The route a lane answers for: its access log and metrics template, its record's
    action."""
    for route in router.routes:
        if isinstance(route, APIRoute) and route.path == path and method in (route.methods or ()):
            return route
    raise LookupError(f"the channel API has no route {method} {path}")


def end_user_of(
    scope: Scope, platform: Platform, headers: dict[bytes, bytes], *, channel_id: int
) -> tuple[RequestContext, list[Subject]] | None:
    """The end user's context and rate-limit subjects from the request's headers, as
    ``deps.request_context`` reads them; None for an invalid end-user IP (the route
    refuses it)."""
    try:
        return end_user(
            Request(scope),
            platform,
            channel_id=channel_id,
            device_id=header_text(headers, b"x-device-id"),
            wifi_id=header_text(headers, b"x-wifi-id"),
            end_user_ip=header_text(headers, b"x-end-user-ip"),
            user_agent=header_text(headers, b"user-agent"),
            client_step_ms=header_text(headers, b"x-client-step-ms"),
        )
    except DomainError:
        return None


def _poll(query: bytes) -> tuple[int, date, date, DoctorTitle | None] | None:
    """The poll's (department, from, to, title) when each is given once in its plain form
    and nothing FastAPI would refuse is there; else None."""
    seen: dict[str, str] = {}
    for name, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
        if name in _PARAMS:
            if name in seen:
                return None
            seen[name] = value
    department, start, end = seen.get("department_id"), seen.get("date_from"), seen.get("date_to")
    title = seen.get("title")
    if (
        department is None
        or start is None
        or end is None
        or not _DEPARTMENT.fullmatch(department)
        or int(department) > 2**31 - 1
        or not _DAY.fullmatch(start)
        or not _DAY.fullmatch(end)
        or (title is not None and title not in _TITLES)
    ):
        return None
    try:
        return (
            int(department),
            date.fromisoformat(start),
            date.fromisoformat(end),
            _TITLES[title] if title is not None else None,
        )
    except ValueError:
        return None


def request_headers(scope: Scope) -> dict[bytes, bytes] | None:
    """The request's headers by lower-case name, the first of each as the route reads it;
    None if a limited one or the key comes twice or one is past its limit (the route
    decides those)."""
    found: dict[bytes, bytes] = {}
    for name, value in scope.get("headers") or []:
        limit = _HEADER_LIMITS.get(name)
        if name in found:
            if limit is not None or name == b"x-channel-key":
                return None
            continue
        if limit is not None and len(value.decode("latin-1")) > limit:
            return None
        found[name] = value
    return found


def header_text(headers: dict[bytes, bytes], name: bytes) -> str | None:
    value = headers.get(name)
    return None if value is None else value.decode("latin-1")
