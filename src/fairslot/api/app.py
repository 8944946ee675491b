"""The FastAPI application: built by a function from a Platform, never at import time."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from fairslot import __version__
from fairslot.api import errors, routers
from fairslot.bootstrap import Platform

# Channel requests are small JSON bodies; schedule pushes may be large documents.
CHANNEL_BODY_LIMIT = 64 * 1024
HOSPITAL_BODY_LIMIT = 16 * 1024 * 1024


class BodyLimit:
    """Refuse an oversized body by its Content-Length before anything reads it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            limit = (
                HOSPITAL_BODY_LIMIT
                if str(scope.get("path", "")).startswith("/hospital/")
                else CHANNEL_BODY_LIMIT
            )
            length = dict(scope.get("headers") or []).get(b"content-length", b"0")
            if not length.isdigit() or int(length) > limit:
                response = JSONResponse(
                    {
                        "error": "body_too_large",
                        "detail": f"The request body may be at most {limit} bytes.",
                    },
                    status_code=413,
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def create_app(platform: Platform) -> FastAPI:
    """The JSON APIs. The site (``web/site.py``) adds ``/docs`` and ``/redoc``, served from
    assets inside the package instead of FastAPI's default CDN."""
    app = FastAPI(
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
    app.add_middleware(BodyLimit)

    @app.get("/healthz", tags=["ops"])
    def healthz() -> dict[str, str]:
        # "now": the platform's clock, which the simulator's actors pace themselves on.
        return {"status": "ok", "version": __version__, "now": platform.clock.now().isoformat()}

    for router in routers.ALL:
        app.include_router(router)
    return app
