"""The review queue of the medical-affairs office: ``/staff/v1/cases``.

Reviewers take the next case (claimed for ``review_lock_minutes``), read its evidence and
decide: confirm (blacklist the chosen scopes), dismiss, or ask customer service to call
the case's patients first. Auditors may list and read cases. Every action is audited.

Refusals: 401 ``staff_token_missing`` / ``staff_token_invalid``; 403 ``role_required``;
404 ``case_not_found``, ``queue_empty`` (``POST /next`` when nothing waits: a JSON body
like every refusal); 409 ``case_closed``, ``case_not_taken``, ``case_not_yours``,
``case_lock_lapsed``, ``case_changed``, ``case_evidence_changed`` (alerts were added
after the reviewer read the case: read it again), ``no_patient_to_call``,
``calls_already_made``;
422 ``reason_required``, ``scopes_required``, ``unknown_scope``,
``scope_has_no_identifiers``, ``invalid_days``, ``question_required``.
"""

from __future__ import annotations

from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Path, Query, Request

from fairslot.api.deps import DbDep, PlatformDep, done
from fairslot.api.staff_deps import ReviewerDep, for_duty
from fairslot.blacklist.models import BlacklistEntry
from fairslot.bookings.policy import booking_policy
from fairslot.bootstrap import Platform
from fairslot.cases import evidence as ev
from fairslot.cases import review
from fairslot.cases.schemas import (
    BlockView,
    CallsIn,
    CallsOut,
    CaseEvidence,
    CaseList,
    CaseSummary,
    ConfirmIn,
    ConfirmOut,
    DismissIn,
)
from fairslot.cases.states import CaseStatus
from fairslot.staff.audit import StaffActor
from fairslot.staff.permissions import Duty

router = APIRouter(prefix="/staff/v1/cases", tags=["review"])

CaseReaderDep = Annotated[StaffActor, Depends(for_duty(Duty.READ_CASES))]
CaseId = Annotated[int, Path(ge=1, le=2**31 - 1)]


def _tz(platform: Platform) -> ZoneInfo:
    # Cases may span hospitals; staff read them in the platform's (hospitals') zone.
    return ZoneInfo(platform.settings.default_timezone)


@router.get("", response_model=CaseList)
@router.get("/", response_model=CaseList, include_in_schema=False)
def list_cases(
    request: Request,
    db: DbDep,
    platform: PlatformDep,
    actor: CaseReaderDep,
    status: CaseStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> CaseList:
    cases = review.listing(db, status=status, limit=limit)
    out = CaseList(cases=ev.summaries(db, cases, tz=_tz(platform)))
    return done(request, db, out)


@router.post("/next", response_model=CaseEvidence)
def take_next(
    request: Request, db: DbDep, platform: PlatformDep, actor: ReviewerDep
) -> CaseEvidence:
    now = platform.clock.now()
    case = review.take_next(
        db, actor=actor, now=now, lock_minutes=platform.settings.review_lock_minutes
    )
    out = ev.evidence(db, case=case, protector=platform.protector, now=now, tz=_tz(platform))
    return done(request, db, out)


@router.get("/{case_id}", response_model=CaseEvidence)
def get_case(
    case_id: CaseId, request: Request, db: DbDep, platform: PlatformDep, actor: CaseReaderDep
) -> CaseEvidence:
    out = review.view(
        db,
        case_id=case_id,
        actor=actor,
        now=platform.clock.now(),
        protector=platform.protector,
        tz=_tz(platform),
    )
    return done(request, db, out)


@router.post("/{case_id}/release", response_model=CaseSummary)
def release_case(
    case_id: CaseId, request: Request, db: DbDep, platform: PlatformDep, actor: ReviewerDep
) -> CaseSummary:
    case = review.release(db, case_id=case_id, actor=actor, now=platform.clock.now())
    return done(request, db, ev.summary(db, case, tz=_tz(platform)))


@router.post("/{case_id}/confirm", response_model=ConfirmOut)
def confirm_case(
    case_id: CaseId,
    body: ConfirmIn,
    request: Request,
    db: DbDep,
    platform: PlatformDep,
    actor: ReviewerDep,
) -> ConfirmOut:
    tz = _tz(platform)
    result = review.confirm(
        db,
        case_id=case_id,
        scopes=body.scopes,
        days=body.days,
        reason=body.reason,
        actor=actor,
        now=platform.clock.now(),
        protector=platform.protector,
        policy=booking_policy(platform.settings),
        rng=platform.rng,
        evidence_version=body.evidence_version,
    )

    def block_view(entry: BlacklistEntry) -> BlockView:
        return BlockView(
            scope=entry.scope.value,
            label=entry.label,
            entry_id=entry.id,
            expires_at=entry.expires_at.astimezone(tz) if entry.expires_at else None,
        )

    out = ConfirmOut(
        case=ev.summary(db, result.case, tz=tz),
        blocked=[block_view(e) for e in result.blocked],
        already_blocked=[block_view(e) for e in result.already],
        bookings_withdrawn=len(result.withdrawn),
        waitlist_closed=result.waitlist_closed,
        intents_refused=result.intents_refused,
    )
    return done(request, db, out)


@router.post("/{case_id}/dismiss", response_model=CaseSummary)
def dismiss_case(
    case_id: CaseId,
    body: DismissIn,
    request: Request,
    db: DbDep,
    platform: PlatformDep,
    actor: ReviewerDep,
) -> CaseSummary:
    case = review.dismiss(
        db,
        case_id=case_id,
        reason=body.reason,
        actor=actor,
        now=platform.clock.now(),
        evidence_version=body.evidence_version,
    )
    return done(request, db, ev.summary(db, case, tz=_tz(platform)))


@router.post("/{case_id}/calls", response_model=CallsOut, status_code=201)
def request_calls(
    case_id: CaseId,
    body: CallsIn,
    request: Request,
    db: DbDep,
    platform: PlatformDep,
    actor: ReviewerDep,
) -> CallsOut:
    case, tasks = review.request_calls(
        db,
        case_id=case_id,
        question=body.question,
        actor=actor,
        now=platform.clock.now(),
        protector=platform.protector,
    )
    out = CallsOut(case=ev.summary(db, case, tz=_tz(platform)), tasks=[t.id for t in tasks])
    return done(request, db, out)
