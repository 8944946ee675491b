"""The review queue (reviewers, auditors): the undecided cases best first, a filter by
status, the cases decided lately, and — for reviewers — "take the next case", which
claims it exactly as the staff API does (``cases/review.py::take_next``) and opens it."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from fairslot.api.deps import DbDep, PlatformDep, commit
from fairslot.cases import review
from fairslot.cases.errors import QueueEmpty
from fairslot.cases.queue import DECIDED, WAITING, queue
from fairslot.cases.states import CaseStatus
from fairslot.web.console.deps import CaseDecider, CaseReader
from fairslot.web.console.pages import after, page

router = APIRouter(prefix="/console", include_in_schema=False)

QUEUE = "/console/cases"
LIMIT = 200


@router.get("/cases", response_class=HTMLResponse)
def queue_page(
    request: Request,
    user: CaseReader,
    db: DbDep,
    platform: PlatformDep,
    status: CaseStatus | None = None,
) -> HTMLResponse:
    found = queue(db, status=status, limit=LIMIT, tz=user.zone)
    commit(request, db)
    return page(
        request,
        "console/cases.html",
        user,
        {
            "queue": found,
            "statuses": [*WAITING, *DECIDED],
            "limit": LIMIT,
            "lock_minutes": platform.settings.review_lock_minutes,
        },
        active="cases",
    )


@router.post("/cases/next")
def take_next(
    request: Request, user: CaseDecider, db: DbDep, platform: PlatformDep
) -> RedirectResponse:
    try:
        case = review.take_next(
            db,
            actor=user.actor,
            now=platform.clock.now(),
            lock_minutes=platform.settings.review_lock_minutes,
        )
    except QueueEmpty:
        # Nothing waits: not an error for the person who asked, just news.
        db.rollback()
        return after(QUEUE, done="cases_queue_empty")
    commit(request, db)
    return after(f"{QUEUE}/{case.id}", done="cases_taken")
