"""Channel API: ranked alternatives to a session (also attached to capacity refusals)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from fairslot.alternatives import service as alternatives
from fairslot.alternatives.schemas import AlternativeView
from fairslot.api.deps import ContextDep, DbDep, PlatformDep, done, for_account
from fairslot.audit.service import PendingRecord
from fairslot.bookings.policy import booking_policy
from fairslot.errors import InvalidInput

router = APIRouter(prefix="/v1", tags=["alternatives"])

_ID = Query(ge=1, le=2**31 - 1)


@router.get("/alternatives", response_model=list[AlternativeView])
def get_alternatives(
    request: Request,
    db: DbDep,
    platform: PlatformDep,
    ctx: ContextDep,
    session_id: Annotated[int, _ID],
    patient_id: Annotated[int | None, _ID] = None,
    account_id: Annotated[int | None, _ID] = None,
    limit: Annotated[int, Query(ge=1, le=alternatives.MAX_LIMIT)] = 10,
) -> list[AlternativeView]:
    """Sessions like ``session_id`` that are open now, best first. With ``patient_id`` (and
    the ``account_id`` it is bound to) only those this patient could book."""
    now = platform.clock.now()
    if account_id is not None:
        ctx = for_account(request, platform, ctx, account_id)
    request.state.audit = PendingRecord(
        action="alternatives", at=now, ctx=ctx, account_id=account_id
    )
    if patient_id is not None and account_id is None:
        raise InvalidInput("Give the account_id the patient is bound to.", code="account_required")
    return done(
        request,
        db,
        alternatives.alternatives_for(
            db,
            session_id=session_id,
            patient_id=patient_id,
            account_id=account_id,
            now=now,
            channel_id=ctx.channel_id or 0,
            limit=limit,
            limits=booking_policy(platform.settings).limits,
        ),
    )
