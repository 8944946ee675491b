"""A case's draw entries held out by the pre-draw screening (``allocation/screening*.py``):
the reviewer who may decide cases clears a wrongly held entry (it keeps its one chance)
or keeps it out. Each is the service's call, audited there."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import RedirectResponse

from fairslot.allocation import screening_review
from fairslot.api.deps import DbDep, PlatformDep, commit
from fairslot.bookings.policy import booking_policy
from fairslot.web.console.deps import CaseDecider
from fairslot.web.console.pages import after

router = APIRouter(prefix="/console", include_in_schema=False)

CaseId = Annotated[int, Path(ge=1, le=2**31 - 1)]
IntentId = Annotated[str, Path(min_length=1, max_length=36, pattern=r"^[0-9a-f-]+$")]
Reason = Annotated[str, Form(min_length=1, max_length=1000)]


@router.post("/cases/{case_id}/held/{intent_id}/clear")
def clear(
    case_id: CaseId,
    intent_id: IntentId,
    request: Request,
    user: CaseDecider,
    db: DbDep,
    platform: PlatformDep,
    reason: Reason,
) -> RedirectResponse:
    done = screening_review.clear(
        db,
        intent_id=intent_id,
        actor=user.actor,
        reason=reason,
        now=platform.clock.now(),
        policy=booking_policy(platform.settings),
        rng=platform.rng,
    )
    commit(request, db)
    return after(f"/console/cases/{case_id}", done=f"held_cleared_{done.outcome}")


@router.post("/cases/{case_id}/held/{intent_id}/refuse")
def refuse(
    case_id: CaseId,
    intent_id: IntentId,
    request: Request,
    user: CaseDecider,
    db: DbDep,
    platform: PlatformDep,
    reason: Reason,
) -> RedirectResponse:
    screening_review.refuse(
        db, intent_id=intent_id, actor=user.actor, reason=reason, now=platform.clock.now()
    )
    commit(request, db)
    return after(f"/console/cases/{case_id}", done="held_refused")
