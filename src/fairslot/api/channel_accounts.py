"""Channel API: accounts and the real-name patients they book for.

Any authenticated channel may act for any account: one person may use several apps.
Responses carry masked personal data only.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from fairslot.api.deps import ContextDep, DbDep, PlatformDep, done, for_account, gate
from fairslot.audit.service import PendingRecord
from fairslot.bookings import listing
from fairslot.bookings.policy import booking_policy
from fairslot.bookings.schemas import AccountBookingsPage
from fairslot.patients import service as patients
from fairslot.patients.schemas import AccountCreate, AccountView, PatientBind, PatientView

router = APIRouter(prefix="/v1", tags=["channel"])

# Ids are 32-bit integer columns; a larger number must be a 404, not a database error.
_MAX_ID = 2**31 - 1
AccountId = Annotated[int, Path(ge=1, le=_MAX_ID)]
PatientId = Annotated[int, Path(ge=1, le=_MAX_ID)]


@router.post("/accounts", response_model=AccountView, status_code=201)
def create_account(
    body: AccountCreate, request: Request, db: DbDep, platform: PlatformDep, ctx: ContextDep
) -> AccountView:
    now = platform.clock.now()
    pending = PendingRecord(action="register_account", at=now, ctx=ctx)
    request.state.audit = pending
    gate(db, platform, ctx, record=pending, phone=body.phone)
    account = patients.register_account(
        db,
        phone=body.phone,
        channel_id=ctx.channel_id or 0,
        external_ref=body.external_ref,
        now=now,
        protector=platform.protector,
        max_per_phone=platform.settings.max_accounts_per_phone,
    )
    pending.account_id = account.id
    return done(request, db, patients.account_view(account, protector=platform.protector))


@router.post("/accounts/{account_id}/patients", response_model=PatientView, status_code=201)
def bind_patient(
    account_id: AccountId,
    body: PatientBind,
    request: Request,
    db: DbDep,
    platform: PlatformDep,
    ctx: ContextDep,
) -> PatientView:
    now = platform.clock.now()
    request.state.audit = PendingRecord(
        action="bind_patient",
        at=now,
        ctx=for_account(request, platform, ctx, account_id),
        account_id=account_id,
        patient_key=patients.patient_key_for(body.id_number, protector=platform.protector),
    )
    pending: PendingRecord = request.state.audit
    gate(
        db,
        platform,
        pending.ctx,
        record=pending,
        patient_key=pending.patient_key,
        phone=body.phone,
    )
    account = patients.get_account(db, account_id=account_id, channel_id=ctx.channel_id)
    patient = patients.bind_patient(
        db,
        account=account,
        name=body.name,
        id_number=body.id_number,
        phone=body.phone,
        insurance_card=body.insurance_card,
        relation=body.relation,
        now=now,
        protector=platform.protector,
        max_bound=platform.settings.max_patients_per_account,
    )
    return done(
        request,
        db,
        patients.bound_patient_view(
            db, account_id=account_id, patient_id=patient.id, now=now, protector=platform.protector
        ),
    )


@router.get("/accounts/{account_id}/patients", response_model=list[PatientView])
def list_patients(
    account_id: AccountId, request: Request, db: DbDep, platform: PlatformDep, ctx: ContextDep
) -> list[PatientView]:
    now = platform.clock.now()
    request.state.audit = PendingRecord(
        action="list_patients",
        at=now,
        ctx=for_account(request, platform, ctx, account_id),
        account_id=account_id,
    )
    patients.get_account(db, account_id=account_id, channel_id=ctx.channel_id)
    return done(
        request,
        db,
        patients.list_patients(db, account_id=account_id, now=now, protector=platform.protector),
    )


@router.delete("/accounts/{account_id}/patients/{patient_id}", status_code=204)
def unbind_patient(
    account_id: AccountId,
    patient_id: PatientId,
    request: Request,
    db: DbDep,
    platform: PlatformDep,
    ctx: ContextDep,
) -> Response:
    request.state.audit = PendingRecord(
        action="unbind_patient",
        at=platform.clock.now(),
        ctx=for_account(request, platform, ctx, account_id),
        account_id=account_id,
    )
    patients.get_account(db, account_id=account_id, channel_id=ctx.channel_id)
    patients.unbind_patient(db, account_id=account_id, patient_id=patient_id)
    answer = done(request, db, Response(status_code=204))
    # No longer the account's patient: its refusals no longer rank for the patient.
    platform.memos.screened.forget((ctx.channel_id or 0, account_id, patient_id))
    return answer


@router.get("/accounts/{account_id}/bookings", response_model=AccountBookingsPage)
def list_bookings(
    account_id: AccountId,
    request: Request,
    db: DbDep,
    platform: PlatformDep,
    ctx: ContextDep,
    limit: Annotated[int, Query(ge=1, le=listing.MAX_PAGE)] = 20,
    offset: Annotated[int, Query(ge=0, le=_MAX_ID)] = 0,
) -> AccountBookingsPage:
    """The account's bookings made through this channel, latest visit first, a page at a
    time (``next_offset`` is the next page's ``offset``, null on the last). Times are in
    the hospital's zone; ``cancellable`` and ``cancel_by`` say whether and until when a
    cancellation would be accepted."""
    now = platform.clock.now()
    request.state.audit = PendingRecord(
        action="list_bookings",
        at=now,
        ctx=for_account(request, platform, ctx, account_id),
        account_id=account_id,
    )
    patients.get_account(db, account_id=account_id, channel_id=ctx.channel_id)
    return done(
        request,
        db,
        listing.account_bookings(
            db,
            account_id=account_id,
            channel_id=ctx.channel_id or 0,
            now=now,
            limits=booking_policy(platform.settings).limits,
            limit=limit,
            offset=offset,
        ),
    )
