"""*Find and book* (预约挂号), browsing: hospital → department (first-come or draw) →
the doctors and dates of the next 7 days with their free counts, and when a session not
yet released opens → the session, choose the patient, hold (``book_hold.py``).

The same reads as the channel API (``api/channel_catalog.py``, ``GET /v1/availability``
with its memo), counted against the same rate limits (the signed-in patient's context)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from fairslot.allocation import service as allocation
from fairslot.allocation.states import AllocationMode
from fairslot.api.deps import DbDep, PlatformDep, done
from fairslot.audit.service import PendingRecord
from fairslot.availability import catalog, recall, upcoming
from fairslot.availability.schemas import SessionAvailabilityView
from fairslot.bootstrap import Platform
from fairslot.errors import NotFound
from fairslot.patients import service as patients
from fairslot.web.patient.deps import Patient, PatientUser
from fairslot.web.patient.pages import page

router = APIRouter(tags=["patient"], include_in_schema=False)

DAYS = 9  # today, the next 7, and the day after: the day the next release opens
Id = Annotated[int, Query(ge=1, le=2**31 - 1)]


def released(
    db: Session,
    platform: Platform,
    user: PatientUser,
    *,
    department_id: int,
    first: date,
    last: date,
) -> list[SessionAvailabilityView]:
    """``GET /v1/availability``'s answer, through the same memo."""
    return recall.recalled(
        db,
        platform.memos.availability,
        department_id=department_id,
        date_from=first,
        date_to=last,
        title=None,
        channel_id=user.ctx.channel_id or 0,
        now=platform.clock.now(),
        batch_window_default=platform.settings.batch_window_seconds,
    ).sessions


def today(platform: Platform, user: PatientUser) -> date:
    return platform.clock.now().astimezone(ZoneInfo(user.zone)).date()


@router.get("/book", response_class=HTMLResponse, name="patient_book")
def book_page(
    request: Request,
    user: Patient,
    db: DbDep,
    platform: PlatformDep,
    hospital: Id | None = None,
    department: Id | None = None,
) -> Response:
    now = platform.clock.now()
    request.state.audit = PendingRecord(
        action="availability", at=now, ctx=user.ctx, account_id=user.account_id
    )
    hospitals = catalog.hospitals_list(db, city=None, grade=None)
    context: dict[str, object] = {"hospitals": hospitals, "hospital": None, "department": None}
    if hospital is not None:
        chosen = next((h for h in hospitals if h.id == hospital), None)
        if chosen is None:
            raise NotFound("No such hospital.", code="hospital_not_found")
        departments = catalog.departments_list(db, hospital_id=chosen.id, specialty=None)
        context.update(hospital=chosen, departments=departments)
        if department is not None:
            dept = next((d for d in departments if d.id == department), None)
            if dept is None:
                raise NotFound("No such department.", code="department_not_found")
            context.update(
                department=dept, **_grid(db, platform, user, dept.id, dept.allocation_mode)
            )
    done(request, db, None)
    return page(request, "patient/book.html", user, context, active="book")


def _grid(
    db: Session, platform: Platform, user: PatientUser, department_id: int, mode: AllocationMode
) -> dict[str, object]:
    """The next 7 days: per day the released sessions (free counts; a full one offers its
    waitlist) and the sessions still to open (when, with a countdown; in a draw department,
    whether its intent window is open now)."""
    first = today(platform, user)
    last = first + timedelta(days=DAYS - 1)
    open_ = released(db, platform, user, department_id=department_id, first=first, last=last)
    coming = upcoming.upcoming(
        db, department_id=department_id, date_from=first, date_to=last, now=platform.clock.now()
    )
    by_day: dict[date, list[object]] = defaultdict(list)
    free: dict[date, int] = defaultdict(int)
    for s in open_:
        by_day[s.session_date].append(s)
        free[s.session_date] += s.free
    for u in coming:
        by_day[u.session_date].append(u)
    days = [first + timedelta(days=i) for i in range(DAYS)]
    now = platform.clock.now()
    # A release batch's window: its slots are not on sale yet, but a request now enters the
    # batch (drawn when the window ends), so the session is offered, not shown full.
    batch_open = {s.session_id for s in open_ if _in_batch(s, now)}
    draw_open: set[date] = set()
    if mode == AllocationMode.DRAW:
        for day in {u.session_date for u in coming}:
            window = allocation.draw_window(db, department_id=department_id, session_date=day)
            if window is not None and window[0] <= now < window[1]:
                draw_open.add(day)
    return {
        "now": now,
        "draw_open": draw_open,
        "batch_open": batch_open,
        "days": days,
        "by_day": by_day,
        "free": free,
        "opening": {d for d in days if any(u.session_date == d for u in coming)},
    }


@router.get("/book/session/{session_id}", response_class=HTMLResponse)
def session_page(
    request: Request,
    user: Patient,
    db: DbDep,
    platform: PlatformDep,
    session_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    department: Id,
    day: date,
) -> Response:
    """The chosen session, the patient to book for, and the hold button."""
    now = platform.clock.now()
    request.state.audit = PendingRecord(
        action="availability", at=now, ctx=user.ctx, account_id=user.account_id
    )
    found = released(db, platform, user, department_id=department, first=day, last=day)
    session = next((s for s in found if s.session_id == session_id), None)
    bound = patients.list_patients(
        db, account_id=user.account_id, now=now, protector=platform.protector
    )
    done(request, db, None)
    if session is None:
        raise NotFound("This session is not open for booking.", code="session_not_open")
    return page(
        request,
        "patient/book_session.html",
        user,
        {"session": session, "patients": bound, "day": day, "in_batch": _in_batch(session, now)},
        active="book",
    )


def _in_batch(session: SessionAvailabilityView, now: datetime) -> bool:
    """The session's release batch takes requests now (``release_batch_ends_at`` is set
    while the batch is pending)."""
    ends = session.release_batch_ends_at
    return ends is not None and now < ends
