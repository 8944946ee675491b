"""Channel API for the waitlist (候补): join a full session's waitlist, look, leave."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from fairslot.api.deps import ChannelDep, ContextDep, DbDep, PlatformDep, done, for_account, gate
from fairslot.audit.service import PendingRecord
from fairslot.bookings.policy import booking_policy
from fairslot.waitlist import service as waitlist
from fairslot.waitlist.schemas import JoinRequest, WaitlistEntryView

router = APIRouter(prefix="/v1", tags=["waitlist"])

AccountId = Annotated[int, Query(ge=1, le=2**31 - 1)]


@router.post("/waitlist", response_model=WaitlistEntryView, status_code=201)
def join_waitlist(
    body: JoinRequest, request: Request, db: DbDep, platform: PlatformDep, ctx: ContextDep
) -> WaitlistEntryView:
    now = platform.clock.now()
    ctx = for_account(request, platform, ctx, body.account_id)
    pending = PendingRecord(
        action="waitlist_join",
        at=now,
        ctx=ctx,
        account_id=body.account_id,
        payment_account_hash=platform.protector.keyed_hash(
            body.payment_account.strip(), purpose="payment_account"
        ),
        extra={"session_id": str(body.session_id)},
    )
    request.state.audit = pending
    gate(db, platform, ctx, record=pending, patient_id=body.patient_id)
    entry = waitlist.join(
        db,
        account_id=body.account_id,
        patient_id=body.patient_id,
        session_id=body.session_id,
        payment_account=body.payment_account,
        payment_reference=body.payment_reference,
        now=now,
        ctx=ctx,
        policy=booking_policy(platform.settings),
        rng=platform.rng,
        protector=platform.protector,
    )
    pending.extra["waitlist_id"] = entry.id
    return done(request, db, waitlist.entry_view(db, entry))


@router.get("/waitlist/{entry_id}", response_model=WaitlistEntryView)
def get_waitlist_entry(
    entry_id: str, request: Request, db: DbDep, channel: ChannelDep, account_id: AccountId
) -> WaitlistEntryView:
    entry = waitlist.get_entry(db, entry_id=entry_id, account_id=account_id, channel_id=channel.id)
    return done(request, db, waitlist.entry_view(db, entry))


@router.delete("/waitlist/{entry_id}", response_model=WaitlistEntryView)
def leave_waitlist(
    entry_id: str,
    request: Request,
    db: DbDep,
    platform: PlatformDep,
    ctx: ContextDep,
    channel: ChannelDep,
    account_id: AccountId,
) -> WaitlistEntryView:
    now = platform.clock.now()
    ctx = for_account(request, platform, ctx, account_id)
    request.state.audit = PendingRecord(
        action="waitlist_leave",
        at=now,
        ctx=ctx,
        account_id=account_id,
        extra={"waitlist_id": entry_id},
    )
    entry = waitlist.leave(
        db, entry_id=entry_id, account_id=account_id, channel_id=channel.id, now=now
    )
    return done(request, db, waitlist.entry_view(db, entry))
