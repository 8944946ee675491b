"""Channel API for release draws: register, read and withdraw intents; read and verify a
draw (public to every channel: anyone may check any draw)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response
from sqlalchemy.orm import Session

from fairslot.allocation import screening_service
from fairslot.allocation import service as allocation
from fairslot.allocation.models import Intent
from fairslot.allocation.schemas import (
    DrawEntry,
    DrawSlot,
    DrawView,
    IntentRequest,
    IntentView,
)
from fairslot.allocation.states import IntentStatus
from fairslot.allocation.verification import verify
from fairslot.api.deps import ChannelDep, ContextDep, DbDep, PlatformDep, done, for_account, gate
from fairslot.api.localtime import local, local_or_none
from fairslot.audit.service import PendingRecord
from fairslot.availability.repository import hospital_timezone_of_department
from fairslot.bookings.policy import booking_policy

router = APIRouter(prefix="/v1", tags=["allocation"])

AccountId = Annotated[int, Query(ge=1, le=2**31 - 1)]
# A database integer: a larger id cannot exist (SQLite would fail to bind it).
DrawId = Annotated[int, Path(ge=1, le=2**31 - 1)]


@router.post("/intents", response_model=IntentView, status_code=201)
def create_intent(
    body: IntentRequest,
    request: Request,
    response: Response,
    db: DbDep,
    platform: PlatformDep,
    ctx: ContextDep,
) -> IntentView:
    """Register the patient's one chance in the draw; a repeat answers the same intent
    (200) rather than a second chance (201)."""
    now = platform.clock.now()
    ctx = for_account(request, platform, ctx, body.account_id)
    request.state.audit = pending = PendingRecord(
        action="intent",
        at=now,
        ctx=ctx,
        account_id=body.account_id,
        payment_account_hash=platform.protector.keyed_hash(
            body.payment_account.strip(), purpose="payment_account"
        ),
    )
    gate(db, platform, ctx, record=pending, patient_id=body.patient_id)
    intent, created = allocation.register_intent(
        db,
        account_id=body.account_id,
        patient_id=body.patient_id,
        target=allocation.IntentTarget(
            session_id=body.session_id,
            department_id=body.department_id,
            session_date=body.session_date,
            title=body.title,
        ),
        payment_account=body.payment_account,
        payment_reference=body.payment_reference,
        now=now,
        ctx=ctx,
        policy=booking_policy(platform.settings),
        protector=platform.protector,
    )
    if not created:
        response.status_code = 200
    return done(request, db, intent_view(db, intent))


@router.get("/intents/{intent_id}", response_model=IntentView)
def get_intent(
    intent_id: str, request: Request, db: DbDep, channel: ChannelDep, account_id: AccountId
) -> IntentView:
    intent = allocation.get_intent(
        db, intent_id=intent_id, account_id=account_id, channel_id=channel.id
    )
    return done(request, db, intent_view(db, intent))


@router.delete("/intents/{intent_id}", response_model=IntentView)
def withdraw_intent(
    intent_id: str,
    request: Request,
    db: DbDep,
    platform: PlatformDep,
    ctx: ContextDep,
    account_id: AccountId,
) -> IntentView:
    now = platform.clock.now()
    ctx = for_account(request, platform, ctx, account_id)
    request.state.audit = PendingRecord(
        action="withdraw_intent", at=now, ctx=ctx, account_id=account_id
    )
    intent = allocation.withdraw_intent(
        db, intent_id=intent_id, account_id=account_id, now=now, ctx=ctx
    )
    return done(request, db, intent_view(db, intent))


@router.get("/draws", response_model=DrawView)
def find_draw(
    request: Request,
    db: DbDep,
    channel: ChannelDep,
    department_id: Annotated[int, Query(ge=1, le=2**31 - 1)],
    session_date: Annotated[date, Query(alias="date")],
) -> DrawView:
    """The draw of a department-day: its commitment is public from the window's start."""
    draw = allocation.find_draw(db, department_id=department_id, session_date=session_date)
    return done(request, db, draw_view(db, draw.id))


@router.get("/draws/{draw_id}", response_model=DrawView)
def get_draw(draw_id: DrawId, request: Request, db: DbDep, channel: ChannelDep) -> DrawView:
    """Commitment and count before the draw; after it, the seed, the inputs, the stored
    and the recomputed assignment, and whether they match."""
    return done(request, db, draw_view(db, draw_id))


def draw_view(db: Session, draw_id: int) -> DrawView:
    check = verify(db, draw_id=draw_id)
    draw = check.draw
    tz = _zone(db, draw.department_id)
    view = DrawView(
        id=draw.id,
        department_id=draw.department_id,
        session_date=draw.session_date,
        status=draw.status,
        kind=draw.kind,
        opens_at=local(draw.opens_at, tz),
        due_at=local(draw.due_at, tz),
        seed_commitment=draw.seed_commitment,
        algorithm=draw.algorithm,
        intents=check.intents,
    )
    if check.verified is None:
        return view
    result = draw.result or {}
    entries = list(result.get("entries", []))
    return view.model_copy(
        update={
            "seed": draw.seed,
            "inputs_digest": draw.inputs_digest,
            "intent_ids": [e["intent_id"] for e in entries],
            "entries": [DrawEntry.model_validate(e) for e in entries],
            "slots": [DrawSlot.model_validate(s) for s in result.get("slots", [])],
            "refused": list(result.get("refused", [])),
            "held_out": list(result.get("held_out", [])),
            "reasons": dict(result.get("reasons", {})),
            "assignment": result.get("assignment"),
            "recomputed": check.recomputed,
            "verified": check.verified,
        }
    )


def intent_view(db: Session, intent: Intent) -> IntentView:
    draw = allocation.get_draw(db, draw_id=intent.draw_id)
    tz = _zone(db, draw.department_id)
    return IntentView(
        id=intent.id,
        draw_id=intent.draw_id,
        patient_id=intent.patient_id,
        account_id=intent.account_id,
        session_id=intent.session_id,
        title=intent.title,
        status=intent.status,
        booking_id=intent.booking_id,
        reason=None if intent.status == IntentStatus.HELD else intent.reason,
        payment_account_masked=intent.payment_account_masked,
        created_at=local(intent.created_at, tz),
        decided_at=local_or_none(intent.decided_at, tz),
        draw_due_at=local(draw.due_at, tz),
        seed_commitment=draw.seed_commitment,
        **screening_service.notice(intent.status),
    )


def _zone(db: Session, department_id: int) -> str:
    """Times leave the platform in the hospital's zone."""
    return hospital_timezone_of_department(db, department_id) or "UTC"
