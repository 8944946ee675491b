"""*Today* (every role): per hospital, the day's releases and draws, scarce-slot fill,
open cases and calls, yesterday's batch."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from fairslot.web.console.deps import AnyStaff
from fairslot.web.console.pages import page

router = APIRouter(prefix="/console", include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def today(request: Request, user: AnyStaff) -> HTMLResponse:
    return page(request, "console/today.html", user, active="today")
