"""The FastAPI application: built by a function from a Platform, never at import time."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fairslot import __version__
from fairslot.api import errors, openapi, routers
from fairslot.api.access_log import AccessLog
from fairslot.api.booking_lane import BookingLane
from fairslot.api.poll_lane import PollLane
from fairslot.api.sold_out_lane import LaneReader, SoldOutLane
from fairslot.bootstrap import Platform
from fairslot.db.engine import make_session_factory
from fairslot.observability import http as metrics
from fairslot.observability.scrape import DatabaseFigures

# Channel requests are small JSON bodies; schedule pushes may be large documents.
CHANNEL_BODY_LIMIT = 64 * 1024
HOSPITAL_BODY_LIMIT = 16 * 1024 * 1024
# Where schedules are uploaded: the hospital API and the console's schedule pages.
SCHEDULE_UPLOAD_PREFIXES = ("/hospital/", "/console/schedules")


def body_limit_for(path: str) -> int:
    return HOSPITAL_BODY_LIMIT if path.startswith(SCHEDULE_UPLOAD_PREFIXES) else CHANNEL_BODY_LIMIT


class BodyTooLarge(Exception):
    """Raised by the counting ``receive`` to stop whoever is reading the body."""


def _too_large(limit: int) -> JSONResponse:
    return JSONResponse(
        {
            "error": "body_too_large",
            "detail": f"The request body may be at most {limit} bytes.",
            "detail_zh": f"请求内容不能超过 {limit} 字节。",
        },
        status_code=413,
        # The rest of the body is never read: the connection cannot carry another request.
        headers={"Connection": "close"},
    )


class BodyLimit:
    """Refuse a body past the route's limit (413 ``body_too_large``) by the bytes actually
    received, not by what Content-Length claims.

    A declared Content-Length past the limit is refused before anything is read. Otherwise
    ``receive`` is wrapped: it counts the ``http.request`` bytes and, at the first chunk
    past the limit, raises :class:`BodyTooLarge` instead of handing it on, so at most
    ``limit`` bytes (plus one chunk) are ever held. FastAPI reads a body before it solves
    an endpoint's dependencies, so an oversized body is refused before the API key is
    looked up; whatever the app then makes of the exception (FastAPI turns it into a 400,
    an endpoint may catch it), the answer is replaced by the 413. A route that never reads
    its body never holds it.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = body_limit_for(str(scope.get("path", "")))
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > limit):
            await _too_large(limit)(scope, receive, send)
            return
        received = 0
        exceeded = False
        started = False

        async def counting_receive() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    exceeded = True
                    raise BodyTooLarge
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if exceeded:
                # The app answered after its body was cut off (FastAPI: a 400 "error
                # parsing the body"): the client gets the 413 instead.
                if not started:
                    started = True
                    await _too_large(limit)(scope, receive, send)
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except BodyTooLarge:
            if not started:
                await _too_large(limit)(scope, receive, send)


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    yield
    # Shutting down: write the request records still waiting for their batch.
    platform = app.state.platform
    records = platform.records
    if records is not None:
        records.close()
    app.state.lane_reader.stop()  # the sold-out lane's thread
    # The rate limits' Redis clients (the sign-in code's too, if the pages made them).
    limiters = [platform.limiter, *platform.extras.get("signin_limiters", ())]
    for limiter in limiters:
        await limiter.aclose()


def create_app(platform: Platform) -> FastAPI:
    """The JSON APIs. The site (``web/site.py``) adds ``/docs`` and ``/redoc``, served from
    assets inside the package instead of FastAPI's default CDN."""
    app = FastAPI(
        telemetry=metrics.FASTAPI_TELEMETRY,
        lifespan=_lifespan,
        docs_url=None,
        redoc_url=None,
        title="fairslot",
        version=__version__,
        description=(
            "A unified hospital slot pool. Channel API (X-Channel-Key) for booking channels; "
            "hospital API (X-Hospital-Key) for the hospitals' systems. Every refusal is "
            '`{"error": code, "detail": message}` with a 4xx status.'
        ),
    )
    app.state.platform = platform
    errors.install(app)
    # Innermost: a recalled poll is answered before FastAPI's router (api/poll_lane.py).
    app.add_middleware(PollLane, platform=platform)
    # A plain hold or confirmation runs beside the router (api/booking_lane.py), after
    # the sold-out lane:
    app.add_middleware(BookingLane, platform=platform)
    # a recalled caller's hold on a recalled sold-out session is refused before it
    # (api/sold_out_lane.py).
    app.state.lane_reader = LaneReader()
    app.add_middleware(SoldOutLane, platform=platform, reader=app.state.lane_reader)
    app.add_middleware(BodyLimit)
    # Outside BodyLimit, so that its 413s are logged too.
    app.add_middleware(AccessLog, protector=platform.protector)

    @app.get("/healthz", tags=["ops"])
    def healthz() -> dict[str, str]:
        # "now": the platform's clock, which the simulator's actors pace themselves on.
        return {"status": "ok", "version": __version__, "now": platform.clock.now().isoformat()}

    for router in routers.ALL:
        app.include_router(router)
    openapi.install(app, routers.ALL)
    # Outermost: every request measured, /metrics for operators (observability/http.py);
    # with FAIRSLOT_METRICS_ENABLED=false neither the route nor the measuring exists.
    if platform.settings.metrics_enabled:
        metrics.install(
            app,
            settings=platform.settings,
            figures=DatabaseFigures(
                sessions=make_session_factory(platform.engine, reader=True), clock=platform.clock
            ),
        )
    return app
