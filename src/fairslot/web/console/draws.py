"""*Draws* (every role: draws are public): the list by hospital, department, date and
state, and one draw's commitment, seed, inputs, assignment and verification re-run —
what ``GET /v1/draws/{id}`` and ``fairslot draw verify`` show, for staff."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse

from fairslot.allocation.inspection import inspect_draw
from fairslot.allocation.listing import DrawFilter, list_draws
from fairslot.allocation.states import DrawStatus
from fairslot.api.deps import DbDep, PlatformDep, done
from fairslot.web.console.deps import DrawReader
from fairslot.web.console.pages import page

router = APIRouter(prefix="/console", include_in_schema=False)

# Filters come from a plain GET form: an empty field means "any".
Field = Annotated[str | None, Query(max_length=32)]


def _id(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() and 0 < int(value) < 2**31 else None


def _day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _status(value: str | None) -> DrawStatus | None:
    return DrawStatus(value) if value in {s.value for s in DrawStatus} else None


@router.get("/draws", response_class=HTMLResponse)
def draws(
    request: Request,
    user: DrawReader,
    db: DbDep,
    hospital: Field = None,
    department: Field = None,
    day: Annotated[str | None, Query(alias="date", max_length=32)] = None,
    status: Field = None,
    page_number: Annotated[int, Query(alias="page", ge=1, le=10_000)] = 1,
) -> HTMLResponse:
    wanted = DrawFilter(
        hospital_id=_id(hospital),
        department_id=_id(department),
        session_date=_day(day),
        status=_status(status),
    )
    found = done(request, db, list_draws(db, wanted=wanted, page=page_number))
    return page(
        request,
        "console/draws.html",
        user,
        {"found": found, "wanted": wanted},
        active="draws",
    )


@router.get("/draws/{draw_id}", response_class=HTMLResponse)
def draw(
    request: Request,
    user: DrawReader,
    db: DbDep,
    platform: PlatformDep,
    draw_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
) -> HTMLResponse:
    detail = inspect_draw(db, draw_id=draw_id, actor=user.actor, now=platform.clock.now())
    done(request, db, detail)
    return page(request, "console/draw.html", user, {"draw": detail}, active="draws")
