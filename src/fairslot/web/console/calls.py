"""Console pages: the call desk (customer service).

An agent takes the next call (flagged calls a reviewer asked for first), reads the script
and the booking, asks for the phone number in full only when about to dial (a POST the
service audits as ``call.reveal_phone``), records the outcome or puts the call back. The
same services as ``/staff/v1/calls`` (``followup/service.py``); the call page shows the
patient masked, so opening it reads no personal data in full.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from fairslot.api.deps import DbDep, PlatformDep, done
from fairslot.bootstrap import Platform
from fairslot.cases import calls as case_calls
from fairslot.followup import service as calls
from fairslot.followup.errors import CallNotFound
from fairslot.followup.states import CallOutcome
from fairslot.web.console.deps import CallAgent, CallReader, ConsoleUser
from fairslot.web.console.pages import after, page
from fairslot.web.templating import render

router = APIRouter(prefix="/console", include_in_schema=False)

MENU = "calls"
TaskId = Annotated[int, Path(ge=1, le=2**31 - 1)]
OUTCOMES = [o.value for o in CallOutcome]


@router.get("/calls", response_class=HTMLResponse)
def desk(request: Request, user: CallReader, db: DbDep, platform: PlatformDep) -> HTMLResponse:
    """My calls, the calls waiting and the latest outcomes; the button to take the next."""
    lists = calls.desk(db, actor=user.actor, now=platform.clock.now(), tz=user.zone)
    return page(
        request,
        "console/calls.html",
        user,
        {
            "desk": done(request, db, lists),
            "none_waiting": request.query_params.get("empty") == "1",
            "lock_minutes": platform.settings.review_lock_minutes,
        },
        active=MENU,
    )


@router.post("/calls/next")
def take_next(
    request: Request, user: CallAgent, db: DbDep, platform: PlatformDep
) -> RedirectResponse:
    try:
        task = calls.take_next(
            db,
            actor=user.actor,
            now=platform.clock.now(),
            lock_minutes=platform.settings.review_lock_minutes,
        )
    except CallNotFound as exc:
        if exc.code != "queue_empty":
            raise
        # Someone took the last call first: back to the desk, which says nothing waits.
        db.rollback()
        return RedirectResponse("/console/calls?empty=1", status_code=303)
    done(request, db, None)
    return after(f"/console/calls/{task.id}", done="call_taken")


def _call_page(
    request: Request,
    db: Session,
    platform: Platform,
    user: ConsoleUser,
    *,
    task_id: int,
    phone: str | None = None,
) -> HTMLResponse:
    """The call as the agent works it: masked, with the number only if just revealed."""
    now = platform.clock.now()
    task = calls.require(db, task_id)
    view = calls.view(
        db,
        task=task,
        actor=user.actor,
        now=now,
        protector=platform.protector,
        tz=user.zone,
        masked=True,
    )
    context = {
        "call": view,
        "mine": calls.is_held_by(task, actor=user.actor, now=now),
        "phone": phone,
        "outcomes": OUTCOMES,
    }
    done(request, db, None)
    response = page(request, "console/call.html", user, context, active=MENU)
    if phone is not None:
        response.headers["Cache-Control"] = "no-store"
    return response


@router.get("/calls/{task_id}", response_class=HTMLResponse)
def call_page(
    task_id: TaskId, request: Request, user: CallReader, db: DbDep, platform: PlatformDep
) -> HTMLResponse:
    return _call_page(request, db, platform, user, task_id=task_id)


@router.post("/calls/{task_id}/phone", response_class=HTMLResponse)
def reveal_phone(
    task_id: TaskId, request: Request, user: CallAgent, db: DbDep, platform: PlatformDep
) -> Response:
    """The number in full, for the agent holding the call (audited by the service). Over
    HTMX only the number's box is swapped; without JavaScript the call page is answered
    with the number shown (never redirected: the number must not land in an address)."""
    phone = calls.reveal_phone(
        db,
        task_id=task_id,
        actor=user.actor,
        now=platform.clock.now(),
        protector=platform.protector,
    )
    if request.headers.get("hx-request") == "true":
        done(request, db, None)
        return render(
            request,
            "console/call_phone.html",
            {"phone": phone, "task_id": task_id},
            headers={"Cache-Control": "no-store"},
        )
    return _call_page(request, db, platform, user, task_id=task_id, phone=phone)


@router.post("/calls/{task_id}/outcome")
def record_outcome(
    task_id: TaskId,
    request: Request,
    user: CallAgent,
    db: DbDep,
    platform: PlatformDep,
    outcome: Annotated[CallOutcome, Form()],
    note: Annotated[str, Form(max_length=1000)] = "",
) -> RedirectResponse:
    case_calls.record_outcome(
        db,
        task_id=task_id,
        outcome=outcome,
        note=note,
        actor=user.actor,
        now=platform.clock.now(),
    )
    done(request, db, None)
    return after("/console/calls", done="call_recorded")


@router.post("/calls/{task_id}/release")
def release_call(
    task_id: TaskId, request: Request, user: CallAgent, db: DbDep, platform: PlatformDep
) -> RedirectResponse:
    calls.release(db, task_id=task_id, actor=user.actor, now=platform.clock.now())
    done(request, db, None)
    return after("/console/calls", done="call_released")
