"""A plain hold, run beside FastAPI's router: the route's own work, its answers, its
records, without FastAPI's per-request dependency solving.

At a release every hold that can take a slot is a ``POST /v1/holds``, and on the event
loop FastAPI spent more CPU on the request than on anything the hold decides: matching
the route, solving its five dependencies and six header parameters, validating the
body and the answer. Measured in process on PostgreSQL (``time.thread_time`` of the
event loop's thread, 800 holds): about 1.8-2.0 ms of the event loop's CPU per hold,
three fifths of it in ``solve_dependencies`` (py-spy) — against about 5 ms in the
worker thread for the whole hold, its gate and its statements.

This lane, an ASGI middleware just outside the router (inside the sold-out lane, which
answers its refusals first), runs the hold when the request is plainly one:

* ``POST /v1/holds`` with a JSON body of ``account_id``, ``patient_id`` and exactly one
  of ``slot_id`` (text, 1-36 characters) or ``session_id``, integers in range, and
  nothing else;
* its channel key is recalled and active (``memos.channels``), and its end-user headers
  are each given once and within their limits, the IP valid.

Then it does what the route's dependencies do, in their order — a session, the channel
(``state.channel_code`` for the access log), the end user's context, the device, IP and
channel rate limits — and calls the route's own :func:`~fairslot.api.channel_booking.hold_work`
in one trip to the thread pool, which ends the session there as ``deps.get_db`` would
(the refused hold's record included). A refusal is rendered by the app's own exception
handler for it (so its code is counted, ``observability/http.py``), and the answer by
the route's response field, as FastAPI renders it. Anything else — a body FastAPI would
read otherwise or refuse (422), a key to look up, a header past its limit, an invalid
end-user IP — goes to the route unchanged. ``FAIRSLOT_HOLD_LANE=false`` sends every hold
to the route.

The answers, records, rate-limit hits, access log line and metrics' route are the
route's (``tests/api/test_hold_lane.py`` asks the same requests of both).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from anyio import CapacityLimiter, to_thread
from fastapi.routing import serialize_response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from fairslot.api import channel_booking
from fairslot.api.deps import action_of, count, end_ok, end_refused
from fairslot.api.poll_lane import end_user_of, request_headers, route_of
from fairslot.api.sold_out_lane import read_body, replay, small_json
from fairslot.audit.service import PendingRecord
from fairslot.bookings.schemas import MAX_ID, HoldRequest
from fairslot.bootstrap import Platform
from fairslot.context import RequestContext
from fairslot.crypto import hash_api_key
from fairslot.gate.ratelimit import RateLimited, Subject

PATH = "/v1/holds"
_BY_SLOT = frozenset({"account_id", "patient_id", "slot_id"})
_BY_SESSION = frozenset({"account_id", "patient_id", "session_id"})
_SLOT_ID_MAX = 36  # HoldRequest.slot_id

Handler = Callable[[Request, Exception], Awaitable[Response]]


class HoldLane:
    """Run a plain hold without FastAPI's router; everything else goes on to ``app``
    with its body as it came."""

    def __init__(self, app: ASGIApp, *, platform: Platform) -> None:
        self.app = app
        self.platform = platform
        self.route = route_of(channel_booking.router, PATH, "POST")
        self.answered = 0  # holds this lane ran (read by tests)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope.get("path") != PATH
            or scope.get("method") != "POST"
            or scope.get("root_path")
            or not self.platform.settings.hold_lane
        ):
            await self.app(scope, receive, send)
            return
        headers = request_headers(scope)
        if headers is None or not small_json(headers) or b"x-channel-key" not in headers:
            await self.app(scope, receive, send)
            return
        body = await read_body(receive)
        if body is None:  # the client left before its body came: nobody to answer
            return
        receive = replay(body, receive)
        asked = plain_hold(body)
        platform = self.platform
        channel = platform.memos.channels.get(
            hash_api_key(headers[b"x-channel-key"].decode("latin-1")), now=platform.clock.now()
        )
        found = (
            end_user_of(scope, platform, headers, channel_id=channel.id)
            if asked is not None and channel is not None and channel.active
            else None
        )
        if asked is None or channel is None or found is None:
            await self.app(scope, receive, send)
            return
        self.answered += 1
        scope["route"] = self.route
        request = Request(scope, receive)
        request.state.channel_code = channel.code  # for the access log, as current_channel
        ctx, subjects = found
        answer = await self._answer(request, asked, ctx, subjects)
        await answer(scope, receive, send)

    async def _answer(
        self, request: Request, asked: HoldRequest, ctx: RequestContext, subjects: list[Subject]
    ) -> Response:
        platform = self.platform
        try:
            try:
                await count(platform, subjects)
            except RateLimited as exc:
                # As deps.request_context and get_db: a throttled grab script is evidence
                # too, recorded outside the pool's limit.
                request.state.audit = PendingRecord(
                    action=action_of(request), at=platform.clock.now(), ctx=ctx
                )
                await to_thread.run_sync(
                    end_refused, request, platform.sessions(), exc, platform,
                    limiter=CapacityLimiter(1),
                )  # fmt: skip
                raise
            value = await run_in_threadpool(self._hold, asked, request, ctx)
        except Exception as exc:
            handler = _handler_for(request, exc)
            if handler is None:
                raise
            return await handler(request, exc)
        if isinstance(value, Response):  # a release batch's entry (202)
            return value
        route = self.route
        content = await serialize_response(
            field=route.response_field,
            response_content=value,
            by_alias=route.response_model_by_alias,
            exclude_unset=route.response_model_exclude_unset,
            exclude_defaults=route.response_model_exclude_defaults,
            exclude_none=route.response_model_exclude_none,
            is_coroutine=True,
            dump_json=True,
        )
        return Response(
            content, status_code=route.status_code or 200, media_type="application/json"
        )

    def _hold(self, asked: HoldRequest, request: Request, ctx: RequestContext) -> Any:
        """The route's work and ``deps.get_db``'s end of its session, in one worker thread
        (a rate-limited hold never opens a transaction: its record is written here too)."""
        platform = self.platform
        session: Session = platform.sessions()
        try:
            value = channel_booking.hold_work(asked, request, session, platform, ctx)
        except BaseException as exc:
            end_refused(request, session, exc, platform)
            raise
        if getattr(request.state, "audit", None) is None and not session.in_transaction():
            session.close()
        else:
            end_ok(request, session, platform)
        return value


def plain_hold(body: bytes) -> HoldRequest | None:
    """The hold, when the body is exactly one in its plain form (FastAPI would read it the
    same way); None for anything the route must read or refuse itself."""
    try:
        doc: Any = json.loads(body)
    except ValueError:  # UnicodeDecodeError included
        return None
    if not isinstance(doc, dict) or doc.keys() not in (_BY_SLOT, _BY_SESSION):
        return None
    ids = [doc["account_id"], doc["patient_id"], doc.get("session_id", 1)]
    if not all(type(v) is int and 1 <= v <= MAX_ID for v in ids):
        return None
    slot_id = doc.get("slot_id")
    if "slot_id" in doc and not (type(slot_id) is str and 1 <= len(slot_id) <= _SLOT_ID_MAX):
        return None
    return HoldRequest.model_validate(doc)


def _handler_for(request: Request, exc: Exception) -> Handler | None:
    """The app's exception handler for ``exc``, as Starlette's ``ExceptionMiddleware``
    finds it (by the exception's class and then its bases)."""
    handlers: dict[Any, Handler] = request.app.exception_handlers
    for kind in type(exc).__mro__:
        if kind in handlers:
            return handlers[kind]
    return None
