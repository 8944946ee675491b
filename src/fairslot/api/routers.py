"""Every API router, in one list the app includes. Add new routers here."""

from __future__ import annotations

from fastapi import APIRouter

ALL: list[APIRouter] = []
