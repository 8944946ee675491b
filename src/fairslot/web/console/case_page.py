"""A case as a reviewer judges it (reviewers, auditors): the rules that hit with their
figures against the thresholds, the subject's timeline, the ring drawn, what blocking
each identifier would also stop, the outcomes of the calls — and, for the reviewer who
holds the case, the decision: confirm (blacklist the chosen scopes, for a number of days
or until lifted in person), dismiss with a reason, ask customer service to call, or put
it back in the queue. Each decision is the staff API's service call, audited there."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from fairslot.allocation import screening_review
from fairslot.api.deps import DbDep, PlatformDep, commit
from fairslot.bookings.policy import booking_policy
from fairslot.cases import case_page, review
from fairslot.cases.errors import ReviewInputInvalid
from fairslot.web.console import ring_picture
from fairslot.web.console.deps import CaseDecider, CaseReader
from fairslot.web.console.pages import after, page

router = APIRouter(prefix="/console", include_in_schema=False)

CaseId = Annotated[int, Path(ge=1, le=2**31 - 1)]
Reason = Annotated[str, Form(max_length=1000)]
# The case's evidence_version the page showed (a hidden field of the decision forms).
EvidenceVersion = Annotated[int, Form(ge=1, le=2**31 - 1)]


def _case_url(case_id: int) -> str:
    return f"/console/cases/{case_id}"


@router.get("/cases/{case_id}", response_class=HTMLResponse)
def case_view(
    case_id: CaseId, request: Request, user: CaseReader, db: DbDep, platform: PlatformDep
) -> HTMLResponse:
    found = case_page.read(
        db,
        case_id=case_id,
        actor=user.actor,
        now=platform.clock.now(),
        protector=platform.protector,
        tz=user.zone,
    )
    commit(request, db)
    return page(
        request,
        "console/cases_case.html",
        user,
        {
            "p": found,
            "case": found.evidence.case,
            "picture": ring_picture.draw(found.graph),
            "warn_above": case_page.COLLATERAL_WARNING_ABOVE,
            "linked_days": case_page.LINKED_DAYS,
            "held": screening_review.held_entries(db, case_id=case_id),
        },
        active="cases",
    )


@router.post("/cases/{case_id}/confirm")
def confirm(
    case_id: CaseId,
    request: Request,
    user: CaseDecider,
    db: DbDep,
    platform: PlatformDep,
    evidence_version: EvidenceVersion,
    reason: Reason = "",
    scopes: Annotated[list[str], Form(max_length=6)] = [],  # noqa: B006 (FastAPI copies it)
    expiry: Annotated[Literal["permanent", "days"], Form()] = "permanent",
    days: Annotated[str, Form(max_length=6)] = "",
) -> RedirectResponse:
    review.confirm(
        db,
        case_id=case_id,
        scopes=scopes,
        days=_days(expiry, days),
        reason=reason,
        actor=user.actor,
        now=platform.clock.now(),
        protector=platform.protector,
        policy=booking_policy(platform.settings),
        rng=platform.rng,
        evidence_version=evidence_version,
    )
    commit(request, db)
    return after(_case_url(case_id), done="cases_confirmed")


@router.post("/cases/{case_id}/dismiss")
def dismiss(
    case_id: CaseId,
    request: Request,
    user: CaseDecider,
    db: DbDep,
    platform: PlatformDep,
    evidence_version: EvidenceVersion,
    reason: Reason = "",
) -> RedirectResponse:
    review.dismiss(
        db,
        case_id=case_id,
        reason=reason,
        actor=user.actor,
        now=platform.clock.now(),
        evidence_version=evidence_version,
    )
    commit(request, db)
    return after(_case_url(case_id), done="cases_dismissed")


@router.post("/cases/{case_id}/calls")
def ask_for_calls(
    case_id: CaseId,
    request: Request,
    user: CaseDecider,
    db: DbDep,
    platform: PlatformDep,
    question: Annotated[str, Form(max_length=500)] = "",
) -> RedirectResponse:
    review.request_calls(
        db,
        case_id=case_id,
        question=question,
        actor=user.actor,
        now=platform.clock.now(),
        protector=platform.protector,
    )
    commit(request, db)
    return after(_case_url(case_id), done="cases_calls")


@router.post("/cases/{case_id}/release")
def release(
    case_id: CaseId, request: Request, user: CaseDecider, db: DbDep, platform: PlatformDep
) -> RedirectResponse:
    review.release(db, case_id=case_id, actor=user.actor, now=platform.clock.now())
    commit(request, db)
    return after("/console/cases", done="cases_released")


def _days(expiry: str, days: str) -> int | None:
    """The form's expiry: None for a block until lifted in person, else whole days."""
    if expiry == "permanent":
        return None
    value = days.strip()
    if not value.isdigit():
        raise ReviewInputInvalid(
            f"Give the number of days the blocks last (1-{review.MAX_BLOCK_DAYS}), or choose "
            "until lifted in person.",
            code="invalid_days",
        )
    return int(value)
