"""The FastAPI application: built by a function from a Platform, never at import time."""

from __future__ import annotations

from fastapi import FastAPI

from fairslot import __version__
from fairslot.api import errors, routers
from fairslot.bootstrap import Platform


def create_app(platform: Platform) -> FastAPI:
    app = FastAPI(
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

    @app.get("/healthz", tags=["ops"])
    def healthz() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    for router in routers.ALL:
        app.include_router(router)
    return app
