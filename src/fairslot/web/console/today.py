"""*Today* (every role): per hospital, the day's releases and draws and the fill of its
scarce supply; for the platform, open cases and calls and yesterday's batch. Read-only."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from fairslot.api.deps import DbDep, PlatformDep, done
from fairslot.overview import service as overview
from fairslot.web.console.deps import AnyStaff
from fairslot.web.console.pages import page

router = APIRouter(prefix="/console", include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def today(request: Request, user: AnyStaff, db: DbDep, platform: PlatformDep) -> HTMLResponse:
    view = overview.today(db, now=platform.clock.now(), zone=platform.settings.default_timezone)
    done(request, db, view)
    return page(request, "console/today.html", user, {"view": view}, active="today")
