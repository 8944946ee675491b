"""A plain hold or confirmation, run beside FastAPI's router: the route's own work, its
answers, its records, without FastAPI's per-request dependency solving.

At a release every request that can take a slot is a ``POST /v1/holds``, followed by its
``POST /v1/bookings/{booking_id}/confirm``, and on the event loop FastAPI spent more CPU
on each than on anything the hold decides: matching the route, solving its five
dependencies and six header parameters, validating the body and the answer. Measured in
process on PostgreSQL (``time.thread_time`` of the event loop's thread, 800 holds): 1.8-2.0
ms of the event loop's CPU per hold, three fifths of it in ``solve_dependencies``
(py-spy), against about 5 ms in the worker thread for the whole hold, its gate and its
statements; through this lane, 0.95 ms.

This lane, an ASGI middleware just outside the router (inside the sold-out lane, which
answers its refusals first), runs the request when it is plainly one of the two:

* ``POST /v1/holds`` with a JSON body of ``account_id``, ``patient_id`` and exactly one
  of ``slot_id`` (text, 1-36 characters) or ``session_id``, integers in range, and
  nothing else; or ``POST /v1/bookings/{booking_id}/confirm`` with exactly
  ``account_id``, ``payment_account`` and ``payment_reference`` that the route's own
  model reads as they are;
* its channel key is recalled and active (``memos.channels``), and its end-user headers
  are each given once and within their limits, the IP valid.

Then it does what the route's dependencies do, in their order — a session, the channel
(``state.channel_code`` for the access log), the end user's context, the device, IP and
channel rate limits — and calls the route's own work (``channel_booking.hold_work`` /
``confirm_work``) in one trip to the thread pool, which ends the session there as
``deps.get_db`` would (the refused request's record included). A refusal is rendered by
the app's own exception handler for it (so its code is counted, ``observability/http.py``),
and the answer by the route's response field, as FastAPI renders it. Anything else — a
body FastAPI would read otherwise or refuse (422), a key to look up, a header past its
limit, an invalid end-user IP — goes to the route unchanged. ``FAIRSLOT_BOOKING_LANE=false``
sends every request to the routes.

The answers, records, rate-limit hits, access log line and metrics' route are the
routes' (``tests/api/test_booking_lane.py`` asks the same requests of both).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from anyio import CapacityLimiter, to_thread
from fastapi.routing import APIRoute, serialize_response
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from fairslot.api import channel_booking
from fairslot.api.deps import action_of, count, end_ok, end_refused
from fairslot.api.poll_lane import end_user_of, route_of
from fairslot.api.sold_out_lane import channel_json_headers, read_body, replay
from fairslot.audit.service import PendingRecord
from fairslot.bookings.schemas import MAX_ID, ConfirmRequest, HoldRequest
from fairslot.bootstrap import Platform
from fairslot.channels.models import Channel
from fairslot.context import RequestContext
from fairslot.crypto import hash_api_key
from fairslot.gate.ratelimit import RateLimited, Subject

HOLDS = "/v1/holds"
CONFIRM = "/v1/bookings/{booking_id}/confirm"
_BOOKINGS, _CONFIRM = "/v1/bookings/", "/confirm"
_BY_SLOT = frozenset({"account_id", "patient_id", "slot_id"})
_BY_SESSION = frozenset({"account_id", "patient_id", "session_id"})
_CONFIRMS = frozenset({"account_id", "payment_account", "payment_reference"})
_SLOT_ID_MAX = 36  # HoldRequest.slot_id

Handler = Callable[[Request, Exception], Awaitable[Response]]
# The route's work on the request's session, for its context.
Work = Callable[[Request, Session, RequestContext], Any]


@dataclass(frozen=True)
class Asked:
    """A request the lane runs: its route, and the route's work with its body read."""

    route: APIRoute
    work: Work


class BookingLane:
    """Run a plain hold or confirmation without FastAPI's router; everything else goes on
    to ``app`` with its body as it came."""

    def __init__(self, app: ASGIApp, *, platform: Platform) -> None:
        self.app = app
        self.platform = platform
        self.holds = route_of(channel_booking.router, HOLDS, "POST")
        self.confirms = route_of(channel_booking.router, CONFIRM, "POST")
        self.answered = 0  # requests this lane ran (read by tests)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path")
        if (
            scope["type"] != "http"
            or scope.get("method") != "POST"
            or not isinstance(path, str)
            or not (path == HOLDS or confirmed_booking(path) is not None)
            or scope.get("root_path")
            or not self.platform.settings.booking_lane
        ):
            await self.app(scope, receive, send)
            return
        headers = channel_json_headers(scope)
        if headers is None:
            await self.app(scope, receive, send)
            return
        body = await read_body(receive)
        if body is None:  # the client left before its body came: nobody to answer
            return
        receive = replay(body, receive)
        asked = self._asked(path, body)
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
        scope["route"] = asked.route
        request = Request(scope, receive)
        request.state.channel_code = channel.code  # for the access log, as current_channel
        ctx, subjects = found
        answer = await self._answer(request, asked, channel, ctx, subjects)
        await answer(scope, receive, send)

    def _asked(self, path: str, body: bytes) -> Asked | None:
        platform = self.platform
        if path == HOLDS:
            hold = plain_hold(body)
            if hold is None:
                return None
            return Asked(
                self.holds,
                lambda request, db, ctx: channel_booking.hold_work(
                    hold, request, db, platform, ctx
                ),
            )
        booking_id = confirmed_booking(path)
        confirm = plain_confirm(body)
        if booking_id is None or confirm is None:
            return None
        return Asked(
            self.confirms,
            lambda request, db, ctx: channel_booking.confirm_work(
                booking_id, confirm, request, db, platform, ctx
            ),
        )

    async def _answer(
        self,
        request: Request,
        asked: Asked,
        channel: Channel,
        ctx: RequestContext,
        subjects: list[Subject],
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
            value = await run_in_threadpool(self._run, asked.work, request, channel, ctx)
        except Exception as exc:
            handler = _handler_for(request, exc)
            if handler is None:
                raise
            return await handler(request, exc)
        if isinstance(value, Response):  # a release batch's entry (202)
            return value
        route = asked.route
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

    def _run(self, work: Work, request: Request, channel: Channel, ctx: RequestContext) -> Any:
        """The route's work and ``deps.get_db``'s end of its session, in one worker thread.
        The recalled channel is put in the session as ``deps.current_channel`` puts it
        (a merge without a query) and held for the whole work, as the route's dependency
        value is (the session's identity map holds its objects weakly), so the gate's look
        at its kind reads nothing."""
        platform = self.platform
        session: Session = platform.sessions()
        try:
            held = session.merge(channel, load=False)
            value = work(request, session, ctx)
            del held
        except BaseException as exc:
            end_refused(request, session, exc, platform)
            raise
        if getattr(request.state, "audit", None) is None and not session.in_transaction():
            session.close()
        else:
            end_ok(request, session, platform)
        return value


def confirmed_booking(path: str) -> str | None:
    """The booking of a confirmation's path, as the route's ``{booking_id}`` matches it
    (one non-empty segment); None for any other path."""
    if not (path.startswith(_BOOKINGS) and path.endswith(_CONFIRM)):
        return None
    booking_id = path[len(_BOOKINGS) : -len(_CONFIRM)]
    return booking_id if booking_id and "/" not in booking_id else None


def plain_hold(body: bytes) -> HoldRequest | None:
    """The hold, when the body is exactly one in its plain form (FastAPI would read it the
    same way); None for anything the route must read or refuse itself."""
    doc = _object(body)
    if doc is None or doc.keys() not in (_BY_SLOT, _BY_SESSION):
        return None
    ids = [doc["account_id"], doc["patient_id"], doc.get("session_id", 1)]
    if not all(type(v) is int and 1 <= v <= MAX_ID for v in ids):
        return None
    slot_id = doc.get("slot_id")
    if "slot_id" in doc and not (type(slot_id) is str and 1 <= len(slot_id) <= _SLOT_ID_MAX):
        return None
    return HoldRequest.model_validate(doc)


def plain_confirm(body: bytes) -> ConfirmRequest | None:
    """The confirmation, when the body has exactly its fields, an integer account and two
    texts the route's model accepts as they are; None otherwise (the route reads it)."""
    doc = _object(body)
    if doc is None or doc.keys() != _CONFIRMS:
        return None
    account_id = doc["account_id"]
    if not (type(account_id) is int and 1 <= account_id <= MAX_ID):
        return None
    if not (type(doc["payment_account"]) is str and type(doc["payment_reference"]) is str):
        return None
    try:
        return ConfirmRequest.model_validate(doc)
    except ValidationError:
        return None


def _object(body: bytes) -> dict[str, Any] | None:
    try:
        doc: Any = json.loads(body)
    except ValueError:  # UnicodeDecodeError included
        return None
    return doc if isinstance(doc, dict) else None


def _handler_for(request: Request, exc: Exception) -> Handler | None:
    """The app's exception handler for ``exc``, as Starlette's ``ExceptionMiddleware``
    finds it (by the exception's class and then its bases)."""
    handlers: dict[Any, Handler] = request.app.exception_handlers
    for kind in type(exc).__mro__:
        if kind in handlers:
            return handlers[kind]
    return None
