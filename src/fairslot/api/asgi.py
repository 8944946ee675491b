"""ASGI entry for ``uvicorn --factory fairslot.api.asgi:app_from_env`` (multi-worker serve)."""

from __future__ import annotations

from fastapi import FastAPI

from fairslot.api.app import create_app
from fairslot.bootstrap import bootstrap
from fairslot.config import load_settings


def app_from_env() -> FastAPI:
    return create_app(bootstrap(load_settings()))
