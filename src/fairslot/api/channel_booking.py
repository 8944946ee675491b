"""Channel API: released availability, hold, confirm, cancel, booking status, feed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from fairslot.allocation import batch_views, batches
from fairslot.allocation.batch_schemas import BatchEntryView
from fairslot.alternatives import service as alternatives
from fairslot.alternatives.screened import ScreenedCaller
from fairslot.alternatives.service import AlternativesMemo, KnownPatient
from fairslot.api.booking_views import booking_view, held_view
from fairslot.api.deps import (
    ChannelDep,
    ContextDep,
    DbDep,
    PlatformDep,
    done,
    for_account,
    gate,
)
from fairslot.api.localtime import local
from fairslot.audit.service import PendingRecord
from fairslot.availability import recall
from fairslot.availability.schemas import SessionAvailabilityView
from fairslot.bookings import repository as booking_repo
from fairslot.bookings import service as bookings
from fairslot.bookings.errors import SlotUnavailable
from fairslot.bookings.policy import BookingPolicy, booking_policy
from fairslot.bookings.rules import Limits
from fairslot.bookings.schemas import (
    AccountRequest,
    BookingView,
    ConfirmRequest,
    HoldRequest,
    NotificationView,
)
from fairslot.bootstrap import Platform
from fairslot.context import RequestContext
from fairslot.db.core import discard
from fairslot.errors import DomainError
from fairslot.hospitals.models import DoctorTitle
from fairslot.notifications import repository as feed

router = APIRouter(prefix="/v1", tags=["channel"])


@router.get("/availability", response_model=list[SessionAvailabilityView])
def get_availability(
    request: Request,
    db: DbDep,
    platform: PlatformDep,
    ctx: ContextDep,
    department_id: Annotated[int, Query(ge=1, le=2**31 - 1)],
    date_from: date,
    date_to: date,
    title: DoctorTitle | None = None,
) -> Response:
    found = released(request, db, platform, ctx, department_id, date_from, date_to, title)
    # The answer's JSON as rendered once for the memo's lifetime: the bytes the response
    # model would make (tests/api/test_availability_json.py), not validated per poll.
    return Response(found.json(), media_type="application/json")


def released(
    request: Request,
    db: Session,
    platform: Platform,
    ctx: RequestContext,
    department_id: int,
    date_from: date,
    date_to: date,
    title: DoctorTitle | None,
) -> recall.Recalled:
    """The released sessions a poll sees (recalled for a moment), its record committed."""
    now = platform.clock.now()
    # A read: its record is all it writes (audit/service.py::write).
    request.state.audit = PendingRecord(action="availability", at=now, ctx=ctx, alone=True)
    found = recall.recalled(
        db,
        platform.memos.availability,
        department_id=department_id,
        date_from=date_from,
        date_to=date_to,
        title=title,
        channel_id=ctx.channel_id or 0,
        now=now,
        batch_window_default=platform.settings.batch_window_seconds,
    )
    return done(request, db, found)


@router.post(
    "/holds",
    response_model=BookingView,
    status_code=201,
    responses={
        202: {
            "model": BatchEntryView,
            "description": "Entered in the session's release batch (the hold arrived in the "
            "window after release, when every request counts the same): no slot is held "
            "yet; the result comes at ``result_at`` (GET /v1/batch-entries/{entry_id}).",
        }
    },
)
async def create_hold(
    body: HoldRequest, request: Request, db: DbDep, platform: PlatformDep, ctx: ContextDep
) -> BookingView | JSONResponse:
    """Hold a released slot (201), or, in a release batch's window, enter the batch (202:
    the same gate, rules and one chance per patient; the draw decides, not arrival)."""
    # One trip to the thread pool for the whole hold; FastAPI then validates the answer
    # on the event loop (a plain ``def`` endpoint goes to the pool again for that).
    return await run_in_threadpool(hold_work, body, request, db, platform, ctx)


def hold_work(
    body: HoldRequest, request: Request, db: Session, platform: Platform, ctx: RequestContext
) -> BookingView | JSONResponse:
    """:func:`create_hold`'s work, in a worker thread (the FHIR ``$hold`` calls it too)."""
    now = platform.clock.now()
    ctx = for_account(request, platform, ctx, body.account_id)
    pending = PendingRecord(
        action="hold", at=now, ctx=ctx, account_id=body.account_id, slot_id=body.slot_id
    )
    request.state.audit = pending
    gate(db, platform, ctx, record=pending, patient_id=body.patient_id)
    policy = booking_policy(platform.settings)
    channel_id = ctx.channel_id or 0
    read = screened(platform, ctx, pending, patient_id=body.patient_id)
    if body.slot_id is None and body.session_id is not None:
        # Before the release-batch check: a session is recalled as sold out only after
        # that check found it outside any batch (see _refuse_if_sold_out).
        _refuse_if_sold_out(
            db, platform, body=body, now=now, channel_id=channel_id, limits=policy.limits,
            read=read,
        )  # fmt: skip
    entered = _batch_entry(db, platform, body=body, now=now, ctx=ctx, policy=policy)
    if entered is not None:
        return JSONResponse(jsonable_encoder(done(request, db, entered)), status_code=202)
    try:
        try:
            slot_id = body.slot_id or bookings.first_free_slot(
                db, session_id=body.session_id or 0, now=now, channel_id=channel_id
            )
        except SlotUnavailable:
            platform.memos.sold_out.put((body.session_id or 0, channel_id), True, now=now)
            raise
        pending.slot_id = slot_id
        booking = bookings.hold(
            db,
            account_id=body.account_id,
            patient_id=body.patient_id,
            slot_id=slot_id,
            now=now,
            ctx=ctx,
            policy=policy,
            rng=platform.rng,
            session_id=None if body.slot_id else body.session_id,
        )
    except SlotUnavailable as exc:
        if exc.code not in CAPACITY_REFUSALS:
            raise
        raise _with_alternatives(
            db,
            exc,
            body=body,
            now=now,
            channel_id=channel_id,
            limits=policy.limits,
            memo=platform.memos.alternatives,
            read=read,
        ) from exc
    pending.slot_id, pending.booking_id = booking.slot_id, booking.id
    made = bookings.new_hold(db, booking)
    view = done(request, db, held_view(made) if made else booking_view(db, booking))
    # This process's own answers show its own change at once.
    platform.memos.changed(caller=(channel_id, body.account_id, body.patient_id))
    return view


def screened(
    platform: Platform, ctx: RequestContext, record: PendingRecord, *, patient_id: int
) -> Callable[[KnownPatient], None] | None:
    """Where a refusal's alternatives hand the patient's facts to recall the caller for
    the sold-out lane (``api/sold_out_lane.py``): only a caller the gate allowed (no
    review or block signal; ``no_browse``, never a reason alone, may be among its
    reasons), under the identifiers it was screened with. None: not recalled."""
    if record.decision != "allow" or record.account_id is None:
        return None
    key = (ctx.channel_id or 0, record.account_id, patient_id)
    generation = platform.memos.generation

    def remember(known: KnownPatient) -> None:
        if platform.memos.generation != generation:
            return  # this process booked or cancelled meanwhile: the facts may be stale
        caller = ScreenedCaller(
            device_key=ctx.device_key,
            ip_key=ctx.ip_key,
            wifi_key=ctx.wifi_key,
            patient_key=record.patient_key,
            patient=known,
        )
        platform.memos.screened.put(key, caller, now=platform.clock.now())

    return remember


def _batch_entry(
    db: Session,
    platform: Platform,
    *,
    body: HoldRequest,
    now: datetime,
    ctx: RequestContext,
    policy: BookingPolicy,
) -> BatchEntryView | None:
    """The batch entry a hold makes in a release batch's window (None: not in one)."""
    entered = batches.entry_for_hold(
        db,
        slot_id=body.slot_id,
        session_id=body.session_id,
        account_id=body.account_id,
        patient_id=body.patient_id,
        now=now,
        ctx=ctx,
        policy=policy,
        protector=platform.protector,
    )
    if entered is None:
        return None
    return batch_views.entry_view(db, entry=entered.entry, batch=entered.batch)


@router.post("/bookings/{booking_id}/confirm", response_model=BookingView)
async def confirm_booking(
    booking_id: str,
    body: ConfirmRequest,
    request: Request,
    db: DbDep,
    platform: PlatformDep,
    ctx: ContextDep,
) -> BookingView:
    # As create_hold: one trip to the thread pool.
    return await run_in_threadpool(confirm_work, booking_id, body, request, db, platform, ctx)


def confirm_work(
    booking_id: str,
    body: ConfirmRequest,
    request: Request,
    db: Session,
    platform: Platform,
    ctx: RequestContext,
) -> BookingView:
    """:func:`confirm_booking`'s work, in a worker thread (the FHIR ``$book`` calls it)."""
    now = platform.clock.now()
    ctx = for_account(request, platform, ctx, body.account_id)
    request.state.audit = pending = PendingRecord(
        action="confirm",
        at=now,
        ctx=ctx,
        account_id=body.account_id,
        booking_id=booking_id,
        payment_account_hash=platform.protector.keyed_hash(
            body.payment_account.strip(), purpose="payment_account"
        ),
    )
    screened = gate(db, platform, ctx, record=pending)
    booking = bookings.confirm(
        db,
        booking_id=booking_id,
        account_id=body.account_id,
        payment_account=body.payment_account,
        payment_reference=body.payment_reference,
        now=now,
        ctx=ctx,
        protector=platform.protector,
        known=screened.booking,
        patient_key=screened.patient_key,
        payment_account_hash=pending.payment_account_hash,
    )
    return done(request, db, booking_view(db, booking))


@router.post("/bookings/{booking_id}/cancel", response_model=BookingView)
def cancel_booking(
    booking_id: str,
    body: AccountRequest,
    request: Request,
    db: DbDep,
    platform: PlatformDep,
    ctx: ContextDep,
    channel: ChannelDep,
) -> BookingView:
    now = platform.clock.now()
    ctx = for_account(request, platform, ctx, body.account_id)
    request.state.audit = PendingRecord(
        action="cancel", at=now, ctx=ctx, account_id=body.account_id, booking_id=booking_id
    )
    booking = bookings.cancel(
        db,
        booking_id=booking_id,
        account_id=body.account_id,
        now=now,
        ctx=ctx,
        channel_kind=channel.kind,
        policy=booking_policy(platform.settings),
        rng=platform.rng,
    )
    view = done(request, db, booking_view(db, booking))
    platform.memos.changed(caller=(channel.id, body.account_id, booking.patient_id))
    return view


@router.get("/bookings/{booking_id}", response_model=BookingView)
def get_booking(
    request: Request,
    booking_id: str,
    db: DbDep,
    channel: ChannelDep,
    account_id: Annotated[
        int,
        Query(
            ge=1,
            le=2**31 - 1,
            description="required: the account that made the booking (a booking is shown "
            "only to its own account, on its own channel; another's is 403 not_your_booking)",
        ),
    ],
) -> BookingView:
    """A booking's status, for the account that made it (``account_id`` is required)."""
    return done(
        request,
        db,
        booking_view(
            db,
            bookings.get_booking(
                db, booking_id=booking_id, account_id=account_id, channel_id=channel.id
            ),
        ),
    )


@router.get("/notifications", response_model=list[NotificationView])
def notifications(
    request: Request,
    db: DbDep,
    platform: PlatformDep,
    channel: ChannelDep,
    after: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[NotificationView]:
    """The channel's feed; ``created_at`` in the zone of the booking's hospital (the
    platform's default zone for a notification about no booking)."""
    default_zone = platform.settings.default_timezone
    return done(
        request,
        db,
        [
            NotificationView(
                id=n.id,
                kind=n.kind,
                account_id=n.account_id,
                booking_id=n.booking_id,
                payload=n.payload,
                created_at=local(n.created_at, zone or default_zone),
            )
            for n, zone in feed.channel_feed(db, channel_id=channel.id, after=after, limit=limit)
        ],
    )


# Refusals for lack of capacity answer with ranked alternatives.
CAPACITY_REFUSALS = frozenset({"slot_taken", "session_full"})


def _refuse_if_sold_out(
    db: Session,
    platform: Platform,
    *,
    body: HoldRequest,
    now: datetime,
    channel_id: int,
    limits: Limits,
    read: Callable[[KnownPatient], None] | None = None,
) -> None:
    """Refuse a hold by session, as ``bookings.first_free_slot`` would, when this process
    found the session full a moment ago (``memos.sold_out``, fairslot/memo.py).

    Runs after the gate: the blacklist, the velocity signals and the rate limits apply
    to every request. Nothing was written, so the refusal's request record is added to
    the gate's own transaction (``keep_changes``) rather than after a rollback.

    Runs before the release-batch check, and answers as that check would have let the
    hold go on: the memo is filled only by a hold that passed it (not in a batch's
    window) and found the session released, on sale and full — so its department-day
    had no release draw or batch pending, only none at all or one already drawn. A drawn
    one stays drawn, and with none the day becomes a batch only if the department is
    switched to release batches (by staff or the scarcity verdict); a session recalled
    full within the memo's 200 ms after such a switch is refused ``session_full`` as a
    moment before, rather than entered (the only answer that can differ from checking
    the batch first).
    """
    session_id = body.session_id or 0
    if not platform.memos.sold_out.get((session_id, channel_id), now=now):
        return
    raise _with_alternatives(
        db,
        bookings.session_full(keep_changes=True),
        body=body,
        now=now,
        channel_id=channel_id,
        limits=limits,
        memo=platform.memos.alternatives,
        fresh=False,
        read=read,
    )


def _with_alternatives(
    db: Session,
    exc: SlotUnavailable,
    *,
    body: HoldRequest,
    now: datetime,
    channel_id: int,
    limits: Limits,
    memo: AlternativesMemo | None = None,
    fresh: bool = True,
    read: Callable[[KnownPatient], None] | None = None,
) -> SlotUnavailable:
    """The same refusal, with alternatives read after the failed hold is rolled back (or
    committed, if the refusal keeps its changes); ``fresh=False``: in the request's own
    transaction (nothing was attempted).

    The request record is untouched: ``get_db`` records the refusal under the same code.
    """
    if fresh:
        if exc.keep_changes:
            db.commit()
        else:
            discard(db)
        # Only reads follow: on SQLite, begin deferred so that a burst of refused grabs
        # does not queue on the write lock for them (a no-op on PostgreSQL).
        db.connection(execution_options={"sqlite_begin": "DEFERRED"})
    session_id = body.session_id
    if session_id is None and body.slot_id is not None:
        slot = booking_repo.get_slot(db, body.slot_id)
        session_id = slot.session_id if slot else None
    found: list[dict[str, Any]] = []
    if session_id is not None:
        try:
            found = [
                view.model_dump(mode="json")
                for view in alternatives.alternatives_for(
                    db,
                    session_id=session_id,
                    patient_id=body.patient_id,
                    account_id=body.account_id,
                    now=now,
                    channel_id=channel_id,
                    limits=limits,
                    memo=memo,
                    read=read,
                )
            ]
        except DomainError:
            # e.g. the patient is not bound to the account: the refusal stands on its own.
            found = []
    return SlotUnavailable(
        exc.detail,
        code=exc.code,
        keep_changes=exc.keep_changes and not fresh,
        **exc.extra,
        alternatives=found,
    )
