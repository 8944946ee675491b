"""Console pages: schedules (schedulers).

Pick a hospital; see its sessions over a range of dates (released or not, with their slots
by state); withdraw one (停诊) with a reason after seeing how many holds and bookings it
ends — the same services as ``GET /staff/v1/hospitals/{code}/sessions`` and
``POST …/sessions/{id}/withdraw`` (``schedules/staff_actions.py``, audited). Uploading a
schedule with its preview is in ``schedule_import.py``.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from fairslot.api.deps import DbDep, PlatformDep, done
from fairslot.hospitals import service as hospitals
from fairslot.hospitals.schemas import CODE_PATTERN
from fairslot.schedules import preview, views
from fairslot.schedules.staff_actions import withdraw_session
from fairslot.web.console import schedule_import
from fairslot.web.console.deps import ScheduleManager, ScheduleReader
from fairslot.web.console.pages import after, page
from fairslot.web.console.schedule_import import IMPORT_COUNTS, MAX_UPLOAD_BYTES

router = APIRouter(prefix="/console", include_in_schema=False)
router.include_router(schedule_import.router)

MENU = "schedules"
# The list shows this many days by default and at most this many.
DEFAULT_DAYS = 7
MAX_DAYS = 31
MAX_ROWS = 500
Code = Annotated[str, Path(min_length=1, max_length=64, pattern=CODE_PATTERN)]


@router.get("/schedules", response_class=HTMLResponse)
def hospitals_page(request: Request, user: ScheduleReader, db: DbDep) -> HTMLResponse:
    """Pick the hospital whose schedule to work on."""
    found = hospitals.list_hospitals(db)
    return page(
        request,
        "console/schedules.html",
        user,
        {"hospitals": done(request, db, found)},
        active=MENU,
    )


def _date(value: str) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


@router.get("/schedules/{code}", response_class=HTMLResponse)
def hospital_page(
    request: Request,
    code: Code,
    user: ScheduleReader,
    db: DbDep,
    platform: PlatformDep,
    first: Annotated[str, Query(alias="from", max_length=10)] = "",
    last: Annotated[str, Query(alias="to", max_length=10)] = "",
    department: Annotated[str, Query(max_length=64)] = "",
) -> HTMLResponse:
    """The hospital's sessions from ``from`` to ``to`` (local dates; the coming week by
    default), the upload form, and the outcome of the last import."""
    hospital = hospitals.get_hospital(db, code=code)
    now = platform.clock.now()
    today = views.local_today(hospital, now)
    start = _date(first) or today
    end = _date(last) or start + timedelta(days=DEFAULT_DAYS - 1)
    end = max(start, min(end, start + timedelta(days=MAX_DAYS - 1)))
    departments = hospitals.list_departments(db, hospital=hospital)
    chosen = department if any(d.code == department for d in departments) else None
    sessions = views.list_sessions_between(
        db,
        hospital=hospital,
        first=start,
        last=end,
        department=chosen,
        now=now,
        limit=MAX_ROWS + 1,
    )
    imported = {key: request.query_params.get(key) for key in IMPORT_COUNTS}
    context = {
        "hospital": hospital,
        "hospital_zone": hospital.timezone,
        "sessions": sessions[:MAX_ROWS],
        "more": len(sessions) > MAX_ROWS,
        "filters": {"from": start, "to": end, "department": chosen or ""},
        "departments": departments,
        "max_days": MAX_DAYS,
        "imported": imported if all(v and v.isdigit() for v in imported.values()) else None,
        "max_upload_mib": MAX_UPLOAD_BYTES // (1024 * 1024),
    }
    return page(
        request, "console/schedules_hospital.html", user, done(request, db, context), active=MENU
    )


@router.get("/schedules/{code}/sessions/{session_id}/withdraw", response_class=HTMLResponse)
def withdraw_page(
    request: Request,
    code: Code,
    session_id: Code,
    user: ScheduleReader,
    db: DbDep,
    platform: PlatformDep,
) -> HTMLResponse:
    """What withdrawing the session would do (its slots, the holds and bookings whose
    patients are told), and the form to confirm it with a reason."""
    hospital = hospitals.get_hospital(db, code=code)
    found = preview.preview_withdrawal(
        db, hospital=hospital, his_session_id=session_id, now=platform.clock.now()
    )
    context = {"hospital": hospital, "found": found, "back": request.query_params.get("from")}
    return page(
        request, "console/schedules_withdraw.html", user, done(request, db, context), active=MENU
    )


@router.post("/schedules/{code}/sessions/{session_id}/withdraw")
def withdraw(
    request: Request,
    code: Code,
    session_id: Code,
    user: ScheduleManager,
    db: DbDep,
    platform: PlatformDep,
    reason: Annotated[str, Form(max_length=200)] = "",
) -> RedirectResponse:
    """Withdraw the session (停诊) on the hospital's behalf, as
    ``POST /staff/v1/hospitals/{code}/sessions/{id}/withdraw`` does; audited."""
    hospital = hospitals.get_hospital(db, code=code)
    report = withdraw_session(
        db,
        hospital=hospital,
        his_session_id=session_id,
        reason=reason,
        actor=user.actor,
        now=platform.clock.now(),
    )
    day = views.session_view(
        db, hospital=hospital, his_session_id=session_id, now=platform.clock.now()
    ).date
    done(request, db, report)
    return after(
        f"/console/schedules/{hospital.code}",
        done="session_withdrawn",
        **{"from": day.isoformat(), "to": day.isoformat()},
    )
