"""Channel/hospital API for alternatives (issue 3)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["alternatives"])
