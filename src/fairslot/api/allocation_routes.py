"""Channel/hospital API for allocation (issue 3)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["allocation"])
