"""*Today* (every role): per hospital, the day's releases and draws and the fill of its
scarce supply; for the platform, open cases and calls and yesterday's batch. Read-only."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from fairslot.api.deps import DbDep, PlatformDep, done
from fairslot.overview import service as overview
from fairslot.staff import service as staff_service
from fairslot.web.console.deps import AnyStaff
from fairslot.web.console.pages import page

router = APIRouter(prefix="/console", include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def today(request: Request, user: AnyStaff, db: DbDep, platform: PlatformDep) -> HTMLResponse:
    view = overview.today(db, now=platform.clock.now(), zone=platform.settings.default_timezone)
    # Failed sign-ins for this username since the previous sign-in: a guessing attack
    # (or a colleague's typo) is shown to the person it was aimed at.
    failed = staff_service.recent_failed_sign_ins(db, staff_id=user.actor.staff_id or 0)
    done(request, db, view)
    return page(
        request, "console/today.html", user, {"view": view, "failed": failed}, active="today"
    )
