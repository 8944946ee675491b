"""HTTP: every request measured by its route template, every refusal counted by its code,
and ``/metrics`` for Prometheus — for operators only.

``/metrics`` answers only a peer inside ``metrics_networks`` (the HTTP peer itself: no
forwarded header is believed here, so a proxy cannot be talked into it) that carries
``Authorization: Bearer <metrics_token>`` when a token is set; a peer outside the networks
gets the same 404 as an unknown address. Production refuses to start with metrics on and
no token (``config.py::check_production``): behind a proxy on the same host every patient
arrives from loopback. The route is left out of the OpenAPI document (it is no channel's
business) and appears in the access log like any other route.
"""

from __future__ import annotations

import hmac
import inspect
import ipaddress
import time
from collections.abc import Awaitable, Callable
from typing import Any, cast

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from fastapi.telemetry import TelemetryConfig
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fairslot.api.access_log import route_template
from fairslot.config import Settings
from fairslot.errors import DomainError
from fairslot.observability import multiproc, record
from fairslot.observability.errors import MetricsTokenRequired
from fairslot.observability.scrape import DatabaseFigures

METRICS_PATH = "/metrics"
# FastAPI's own OpenTelemetry instrumentation, off: the platform measures itself here, and
# with it on FastAPI asked the OpenTelemetry globals (environment reads) on every request,
# about 4 % of a hold's CPU in the release burst (py-spy --gil).
FASTAPI_TELEMETRY: TelemetryConfig = {
    "tracing": False,
    "metrics": False,
    "logs": False,
    "operation_spans": False,
}
# Where an error handler leaves the code it rendered, for the middleware to count.
REFUSAL_KEY = "refusal_code"

Handler = Callable[[Request, Any], Awaitable[Response]]


class RequestMetrics:
    """A pure ASGI middleware: no thread hop, no task; after the response it records the
    method, route template, status, latency and (when a handler refused) the code."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        root_path = str(scope.get("root_path", ""))
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            route = route_template(scope, root_path)
            record.request(
                method=str(scope.get("method", "")),
                route=route,
                status=status,
                seconds=time.perf_counter() - started,
            )
            code = (scope.get("state") or {}).get(REFUSAL_KEY)
            if isinstance(code, str):
                record.refusal(code=code, route=route)


def count_refusals(app: FastAPI) -> None:
    """Wrap each exception handler of ``app`` so that a refusal it renders (status 4xx or
    5xx) leaves its code for :class:`RequestMetrics`. Idempotent: call it again after
    another part of the site replaced handlers (``web/site.py``); a wrapped handler is not
    wrapped twice, and a handler that hands on to a wrapped one sets the same code."""
    for kind, handler in list(app.exception_handlers.items()):
        # Every handler of ours is async; a sync one would have to stay in its thread.
        if (
            isinstance(kind, type)
            and inspect.iscoroutinefunction(handler)
            and not getattr(handler, "counts_refusals", False)
        ):
            app.exception_handlers[kind] = _counting(cast(Handler, handler))


def _counting(handler: Handler) -> Handler:
    async def counted(request: Request, exc: Any) -> Response:
        response = await handler(request, exc)
        if response.status_code >= 400:
            request.scope.setdefault("state", {})[REFUSAL_KEY] = refusal_code(
                exc, response.status_code
            )
        return response

    counted.counts_refusals = True  # type: ignore[attr-defined]
    return counted


def refusal_code(exc: Exception, status: int) -> str:
    """The stable code a refusal was rendered with (``api/errors.py`` names them)."""
    if isinstance(exc, DomainError):
        return exc.code
    if isinstance(exc, RequestValidationError):
        return "invalid_request"
    if isinstance(exc, StarletteHTTPException):
        return {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
    return {409: "conflict", 422: "invalid_value", 503: "busy"}.get(status, "error")


def check_access(request: Request, settings: Settings) -> None:
    """Refuse a scrape from outside ``metrics_networks`` (404, as if there were no such
    address) or without the bearer token (401 ``metrics_token_required``)."""
    peer = request.client.host if request.client else None
    if not settings.metrics_enabled or not _inside(peer, settings.metrics_networks):
        raise StarletteHTTPException(status_code=404, detail="Not Found")
    token = settings.metrics_token
    if token is None:
        return
    given = request.headers.get("authorization", "")
    scheme, _, value = given.partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        value.strip().encode(), token.encode()
    ):
        raise MetricsTokenRequired("/metrics needs the operators' bearer token.")


def _inside(peer: str | None, networks: list[str]) -> bool:
    if not peer:
        return False
    try:
        address = ipaddress.ip_address(peer)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # a dual-stack socket's view of an IPv4 peer
    return any(address in ipaddress.ip_network(n, strict=False) for n in networks)


def scrape_registry(figures: DatabaseFigures) -> Callable[[], CollectorRegistry]:
    """What one scrape collects: every process's files in multi-process mode (dead
    workers' live gauges dropped first), else this process's instruments; and the
    database's figures."""
    single: CollectorRegistry | None = None

    def registry() -> CollectorRegistry:
        nonlocal single
        shared = multiproc.directory()
        if shared is not None:
            multiproc.forget_dead(shared)
            found = multiproc.shared_registry(shared)
            found.register(figures)
            return found
        if single is None:
            single = CollectorRegistry()
            for instrument in vars(record.instruments()).values():
                single.register(instrument)
            single.register(figures)
        return single

    return registry


def install(app: FastAPI, *, settings: Settings, figures: DatabaseFigures) -> None:
    """Measure every request of ``app``, count its refusals and serve ``/metrics``."""
    registry = scrape_registry(figures)

    @app.get(METRICS_PATH, include_in_schema=False)
    def metrics(request: Request) -> Response:
        check_access(request, settings)
        # Prometheus's text format 0.0.4, which every Prometheus server reads.
        return Response(generate_latest(registry()), media_type=CONTENT_TYPE_PLAIN_0_0_4)

    count_refusals(app)
    app.add_middleware(RequestMetrics)
