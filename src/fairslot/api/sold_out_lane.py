"""A hold on a session this process found sold out, refused on the event loop.

After a release the scarce sessions are gone, and most hold requests are grab scripts and
people asking for them again. Through FastAPI each such refusal solves five
dependencies, makes three trips to the thread pool and runs the gate's statement (the
blacklist, the velocity signals) and the patient's read, only to answer 409
``session_full`` with the alternatives it answered a moment ago. This lane, an ASGI
middleware just outside FastAPI's router, answers it directly when:

* the request is exactly a hold by session: ``POST /v1/holds`` with a JSON body of
  ``account_id``, ``patient_id`` and ``session_id``, plain integers in range, and nothing
  else;
* its channel key is recalled and active (a lapsed key is looked up again on the lane's
  thread, as ``deps.current_channel`` does), and its end-user headers are within limits;
* the session is recalled sold out for the channel, and its alternatives' neighbourhood
  is recalled (``memos.sold_out``, ``memos.alternatives``);
* **the caller was screened**: in the last ``settings.sold_out_lane_seconds`` this
  process's gate let this account hold for this patient, from the same device, network
  and Wi-Fi, with decision ``allow`` — no review or block signal (``memos.screened``, filled by
  ``channel_booking.py::screened``), and the patient's facts read then cover the
  alternatives' days.

The security decision (issue 14): a refusal books, holds and reveals nothing — a sold-out
session and its alternatives are what any poll shows — so a caller the whole gate cleared
a moment ago is not screened again for each refusal. What still applies to every
refusal: the rate limits of its device, network and account (the route's windows); its
request record (``hold`` / ``session_full``, with the patient's key, batched like the
route's), which the gate's velocity signals of the caller's next screened request and the
daily batch's operator rules read. A caller not recalled — new, blacklisted (refused, so
never recalled), flagged by any velocity signal, or from another device or network — goes
to the route and its whole gate. So a blacklisting or a velocity signal reaches a recalled
caller's refusals at most one lane lifetime late, and only its refusals: every hold that
could take a slot goes through the gate. Set ``FAIRSLOT_SOLD_OUT_LANE_SECONDS=0`` to screen
every refusal.

A caller's recalled patient facts are forgotten when this process books or cancels for
that patient; a booking made through another process or channel shows in a lane
refusal's alternatives at most one lane lifetime late (a hold on such an alternative is
refused by the booking rules, as it would be on any stale answer).

When the sold-out or neighbourhood memo lapses (a lifetime of 200 ms and 1 s), the lane
reads them again itself, on a thread of its own, once at a time per session — whether
the session is still sold out outside any release batch that could take entries
(``allocation/batches.py::still_sold_out``, read only) and its neighbourhood — and the
holds that find them lapsed wait for that read (at most ``REFILL_WAIT_S``, else they go
to the route) and take its answer if it began after they arrived, or at most a lifetime
before (under load one read can take longer than the memo's 200 ms). So nothing is
answered from a lapsed memo: a slot returned to a sold-out session is seen by a hold by
session within one lifetime, as on the route. Measured:
refilled by the route instead (a hold's gate, release-batch check and alternatives,
queued behind every other hold), the memos took longer than their lifetime to come back
under load, and a fifth of the refusals went to the route for it.

The answer, its record, its rate-limit hits, the access log line and the metrics' route
are the route's (``tests/api/test_sold_out_lane.py``).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy.orm import Session
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fairslot.allocation import batches
from fairslot.alternatives import service as alternatives
from fairslot.alternatives.rules import Ranked
from fairslot.alternatives.screened import ScreenedCaller
from fairslot.api import channel_booking
from fairslot.api.deps import channel_by_key, count
from fairslot.api.errors import domain_response
from fairslot.api.poll_lane import answered, end_user_of, record, request_headers, route_of
from fairslot.audit.service import PendingRecord
from fairslot.bookings.booking import session_full
from fairslot.bookings.errors import SlotUnavailable
from fairslot.bookings.policy import booking_policy
from fairslot.bookings.schemas import MAX_ID
from fairslot.bootstrap import Platform
from fairslot.channels.models import Channel
from fairslot.context import RequestContext
from fairslot.crypto import hash_api_key
from fairslot.errors import DomainError
from fairslot.gate.ratelimit import RateLimited, Subject
from fairslot.observability.http import REFUSAL_KEY

log = logging.getLogger(__name__)
A = TypeVar("A")
R = TypeVar("R")

PATH = "/v1/holds"
_FIELDS = frozenset({"account_id", "patient_id", "session_id"})
# A hold by session is under 100 bytes; anything longer goes to the route unread.
MAX_BODY = 256
# How long a hold waits for the lane's own read of a lapsed sold-out session.
REFILL_WAIT_S = 1.0


@dataclass(frozen=True)
class Refusal:
    """A hold the lane refuses: who asks, for what, and what it is answered with."""

    channel: Channel
    ctx: RequestContext  # the end user's, acting for the account
    subjects: list[Subject]
    account_id: int
    caller: ScreenedCaller
    hood: alternatives.Neighbourhood
    offers: list[alternatives.Offer]


class LaneReader:
    """The lane's one thread for its reads: started on first use, stopped with the app
    (``api/app.py``'s lifespan drops the reads not begun: their holds are answered)."""

    def __init__(self) -> None:
        self._pool: ThreadPoolExecutor | None = None

    def run(self, read: Callable[[A], R], arg: A) -> asyncio.Future[R]:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sold-out-lane")
        return asyncio.get_running_loop().run_in_executor(self._pool, read, arg)

    def stop(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None


@dataclass(frozen=True)
class Reread:
    """A session's sold-out state and neighbourhood as the lane read them again."""

    as_of: datetime  # when the read began (once it had its connection)
    sold_out: bool
    hood: alternatives.Neighbourhood | None


class SoldOutLane:
    """Refuse a recalled caller's hold on a recalled sold-out session without FastAPI;
    everything else goes on to ``app`` with its body as it came."""

    def __init__(self, app: ASGIApp, *, platform: Platform, reader: LaneReader) -> None:
        self.app = app
        self.platform = platform
        self.route = route_of(channel_booking.router, PATH, "POST")
        self.answered = 0  # holds this lane refused (read by tests)
        # The (session, channel) pairs being read again, on the lane's own thread.
        self._refills: dict[tuple[int, int], asyncio.Future[Reread | None]] = {}
        self._lookups: dict[str, asyncio.Future[None]] = {}
        # The key hashes of the channels this lane has recalled: only those are looked up
        # again here when they lapse; any other key goes to the route, as in the poll lane.
        self._known: set[str] = set()
        self._reader = reader
        self._rendered = RenderedRefusals()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope.get("path") != PATH
            or scope.get("method") != "POST"
            or scope.get("root_path")
            or self.platform.memos.screened.ttl <= timedelta(0)
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
        refusal = await self._refusal(scope, headers, body)
        if refusal is None:
            await self.app(scope, receive, send)
            return
        self.answered += 1
        answer = await answered(self._answer(scope, refusal))
        await answer(scope, receive, send)

    async def _refusal(
        self, scope: Scope, headers: dict[bytes, bytes], body: bytes
    ) -> Refusal | None:
        """The refusal the lane may answer, without counting anything; None when the
        route must answer (see the module's doc)."""
        asked = _hold(body)
        if asked is None:
            return None
        platform = self.platform
        memos, now = platform.memos, platform.clock.now()
        channel = await self._channel(hash_api_key(headers[b"x-channel-key"].decode("latin-1")))
        if channel is None or not channel.active:
            return None
        account_id, patient_id, session_id = asked
        caller = memos.screened.get((channel.id, account_id, patient_id), now=now)
        if caller is None:
            return None
        key = (session_id, channel.id)
        sold_out = memos.sold_out.get(key, now=now)
        hood = memos.alternatives.get(key, now=now)
        if not sold_out or hood is None:  # lapsed: read again, once, here
            read = await self._read_again(key)
            # A read that began after this hold arrived, or at most a memo lifetime
            # before (a read under way when it came): as fresh as the route's own.
            if read is None or read.as_of < now - memos.sold_out.ttl:
                return None
            sold_out, hood = read.sold_out, read.hood
        if not sold_out or hood is None:
            return None
        offers = alternatives.offered(hood, now=now)
        if not alternatives.covers(caller.patient, alternatives.span_of(offers)):
            return None
        found = end_user_of(scope, platform, headers, channel_id=channel.id)
        if found is None:
            return None
        ctx, subjects = found
        if (ctx.device_key, ctx.ip_key, ctx.wifi_key) != (
            caller.device_key,
            caller.ip_key,
            caller.wifi_key,
        ):
            return None  # screened from elsewhere: the gate looks again
        return Refusal(
            channel=channel,
            ctx=replace(ctx, account_id=account_id),
            subjects=subjects,
            account_id=account_id,
            caller=caller,
            hood=hood,
            offers=offers,
        )

    async def _channel(self, key_hash: str) -> Channel | None:
        """The channel of an API key: recalled, else looked up on the lane's thread (the
        route refills it too, but with most holds answered here it is seldom asked)."""
        platform = self.platform
        channel = platform.memos.channels.get(key_hash, now=platform.clock.now())
        if channel is not None:
            self._known.add(key_hash)
            return channel
        if key_hash not in self._known:
            return None
        lookup = self._lookups.get(key_hash)
        if lookup is None:
            lookup = self._reader.run(self._look_up, key_hash)
            self._lookups[key_hash] = lookup
            lookup.add_done_callback(lambda _: self._lookups.pop(key_hash, None))
        with suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(lookup), REFILL_WAIT_S)
        return platform.memos.channels.get(key_hash, now=platform.clock.now())

    def _look_up(self, key_hash: str) -> None:
        """Look a channel's key up and recall it (``deps.py::channel_by_key``)."""
        with _reading(self.platform, "a channel key") as db:
            channel_by_key(db, self.platform, key_hash)

    async def _read_again(self, key: tuple[int, int]) -> Reread | None:
        """``key``'s sold-out state and neighbourhood read again on the lane's thread, by
        the read under way or a new one (None: it failed or took over ``REFILL_WAIT_S``)."""
        read = self._refills.get(key)
        if read is None:
            read = self._reader.run(self._read, key)
            self._refills[key] = read
            read.add_done_callback(lambda _: self._refills.pop(key, None))
        try:
            return await asyncio.wait_for(asyncio.shield(read), REFILL_WAIT_S)
        except TimeoutError:
            return None

    def _read(self, key: tuple[int, int]) -> Reread | None:
        """Whether ``key`` is still sold out as a hold by session finds it, recalled if so,
        and its neighbourhood, recalled; a session no longer sold out is left to lapse,
        for the route. None: the read failed (logged)."""
        session_id, channel_id = key
        platform = self.platform
        memos = platform.memos
        # Under load beginning the read waits for the pool: the answer is as of after it.
        with _reading(platform, f"session {session_id}") as db:
            now, generation = platform.clock.now(), memos.generation
            sold_out = batches.still_sold_out(
                db, session_id=session_id, channel_id=channel_id, now=now
            )
            if memos.generation != generation:
                return None  # this process changed slots meanwhile: ask the route
            if sold_out:
                memos.sold_out.put(key, True, now=now)
            hood = memos.alternatives.get(key, now=now)
            if hood is None:
                with suppress(DomainError):  # no longer open: the route says so
                    hood = alternatives.neighbourhood(
                        db, session_id=session_id, now=now, channel_id=channel_id,
                        memo=memos.alternatives,
                    )  # fmt: skip
            return Reread(as_of=now, sold_out=sold_out, hood=hood)
        return None

    async def _answer(self, scope: Scope, refusal: Refusal) -> Response:
        """Count the hold against its limits and record it, as the route would; the
        route's refusal (or its rate-limit refusal)."""
        platform, route = self.platform, self.route
        caller, acting = refusal.caller, refusal.ctx
        state = scope.setdefault("state", {})
        scope["route"] = route
        state["channel_code"] = refusal.channel.code  # for the access log
        for counted, subject_ctx, account in (
            (refusal.subjects, replace(acting, account_id=None), None),
            ([Subject("account", str(refusal.account_id))], acting, refusal.account_id),
        ):
            try:
                await count(platform, counted)
            except RateLimited as exc:
                refused = PendingRecord(
                    action=route.name[:32],
                    at=platform.clock.now(),
                    ctx=subject_ctx,
                    account_id=account,
                    alone=True,
                )
                await record(platform, refused, exc.code)
                state[REFUSAL_KEY] = exc.code
                return domain_response(exc)
            state["log_subject"] = f"account:{refusal.account_id}"  # as for_account
        held = PendingRecord(
            action="hold",
            at=platform.clock.now(),
            ctx=acting,
            account_id=refusal.account_id,
            patient_key=caller.patient_key,
            alone=True,
        )
        full = session_full()
        await record(platform, held, full.code)
        state[REFUSAL_KEY] = full.code
        booker = alternatives.booker_of(
            caller.patient, limits=booking_policy(platform.settings).limits
        )
        order = alternatives.ranking(refusal.hood, refusal.offers, booker=booker)
        return self._rendered.answer(refusal.hood, order, lambda: _rendered(full, refusal, order))


def _rendered(full: SlotUnavailable, refusal: Refusal, order: list[Ranked]) -> Response:
    """The route's ``session_full`` refusal (``full``) with ``order``'s alternatives."""
    found = alternatives.views(order, refusal.offers)
    return domain_response(
        SlotUnavailable(
            full.detail,
            code=full.code,
            **full.extra,
            alternatives=[view.model_dump(mode="json") for view in found],
        )
    )


class RenderedRefusals:
    """The lane's refusals as rendered, by neighbourhood and ranking: callers refused
    again and again over the same sold-out sessions are answered with the same few
    bodies (the same status, headers and bytes as rendering them anew), not a model dump
    and a JSON encoding each. A neighbourhood read anew (the memo's next read) starts
    anew; past :attr:`MAX` neighbourhoods or rankings the whole store does."""

    MAX = 256

    def __init__(self) -> None:
        # id(neighbourhood) -> the neighbourhood itself (an id is only unique while its
        # object lives) and its rendered refusals by ranking.
        self._by_hood: dict[
            int,
            tuple[alternatives.Neighbourhood, dict[tuple[tuple[int, int, str], ...], Response]],
        ] = {}
        self._kept = 0

    def answer(
        self,
        hood: alternatives.Neighbourhood,
        order: list[Ranked],
        render: Callable[[], Response],
    ) -> Response:
        entry = self._by_hood.get(id(hood))
        if entry is None or entry[0] is not hood:
            if len(self._by_hood) >= self.MAX or self._kept >= self.MAX:
                self._by_hood, self._kept = {}, 0
            entry = self._by_hood[id(hood)] = (hood, {})
        by_ranking = entry[1]
        key = tuple((r.candidate.session_id, int(r.tier), r.reason) for r in order)
        kept = by_ranking.get(key)
        if kept is None:
            kept = by_ranking[key] = render()
            self._kept += 1
        return Response(
            kept.body,
            status_code=kept.status_code,
            headers={k: v for k, v in kept.headers.items() if k != "content-length"},
            media_type=kept.media_type,
        )


@contextmanager
def _logged(what: str) -> Iterator[None]:
    """A failed read is logged and left: its holds go to the route."""
    try:
        yield
    except Exception as exc:  # any failure: its holds go to the route
        # The class only: a database error's text carries its parameters.
        log.warning("sold-out lane: reading %s again failed: %s", what, type(exc).__name__)


@contextmanager
def _reading(platform: Platform, what: str) -> Iterator[Session]:
    """A read of the lane's in a transaction of its own (on SQLite begun deferred, so it
    never takes the write lock), ended by ``COMMIT`` however the block leaves — a return
    included — unless it failed (logged, and rolled back by the session's close).

    ``COMMIT``, not a rollback: for a transaction that wrote nothing they are the same,
    but psycopg forgets every statement it prepared on a connection at each rollback, and
    these reads run on the request pool's connections all through a release burst.
    Measured (``pg_stat_statements``, hold-by-session phase): about 100 lane rollbacks in
    5 s — most reads return early, the process's slots having changed meanwhile — and
    77-85 % of the holds' statements parsed and planned anew."""
    with platform.sessions() as db, _logged(what):
        db.connection(execution_options={"sqlite_begin": "DEFERRED"})
        yield db
        db.commit()


def channel_json_headers(scope: Scope) -> dict[bytes, bytes] | None:
    """The headers of a channel's request with a small JSON body a lane reads (the route
    reads anything else, ``poll_lane.py::request_headers`` says which); None otherwise."""
    headers = request_headers(scope)
    if headers is None or not small_json(headers) or b"x-channel-key" not in headers:
        return None
    return headers


def small_json(headers: dict[bytes, bytes]) -> bool:
    """A JSON body of a declared length the lane reads (at most ``MAX_BODY``)."""
    length = headers.get(b"content-length", b"")
    kind = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
    return kind == b"application/json" and length.isdigit() and int(length) <= MAX_BODY


async def read_body(receive: Receive) -> bytes | None:
    """The whole body (None: the client disconnected first)."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


def replay(body: bytes, receive: Receive) -> Receive:
    """``receive`` for the route: the body already read, then the client's messages."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed


def _hold(body: bytes) -> tuple[int, int, int] | None:
    """(account, patient, session) of a plain hold by session; None for anything the
    route would read differently or refuse."""
    try:
        doc: Any = json.loads(body)
    except ValueError:  # UnicodeDecodeError included
        return None
    if not isinstance(doc, dict) or doc.keys() != _FIELDS:
        return None
    values = [doc["account_id"], doc["patient_id"], doc["session_id"]]
    if not all(type(v) is int and 1 <= v <= MAX_ID for v in values):
        return None
    return values[0], values[1], values[2]
