"""*Find and book*, acting: hold a slot of the chosen session for a bound patient (the
channel API's ``POST /v1/holds``: the same gate, record and service; when the session is
gone, the refusal with its ranked alternatives, each one tap from a hold), the hold with
its countdown, payment through the provider's cashier (``payments/service.py::checkout``)
or giving the hold up (the channel API's cancellation), and, back from the cashier, the
confirmation."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from fairslot.allocation import batches
from fairslot.alternatives import service as alternatives
from fairslot.alternatives.schemas import AlternativeView
from fairslot.api.deps import DbDep, PlatformDep, done, gate
from fairslot.audit import service as audit
from fairslot.audit.service import PendingRecord
from fairslot.bookings import listing
from fairslot.bookings import service as bookings
from fairslot.bookings.errors import SlotUnavailable, StateConflict
from fairslot.bookings.policy import booking_policy
from fairslot.bookings.schemas import AccountBookingView
from fairslot.bookings.states import BookingStatus
from fairslot.bootstrap import Platform
from fairslot.entries import service as entries
from fairslot.errors import DomainError, NotFound
from fairslot.payments import service as payments
from fairslot.web.patient.deps import Acting, Patient, PatientUser, finish
from fairslot.web.patient.errors import message_for
from fairslot.web.patient.pages import after, page
from fairslot.web.payments import may_post_to_provider, payment_provider

router = APIRouter(tags=["patient"], include_in_schema=False)

BookingId = Annotated[str, Path(min_length=1, max_length=36, pattern=r"^[0-9a-f-]+$")]
# Refusals for lack of capacity answer with ranked alternatives (as the channel API's).
CAPACITY_REFUSALS = frozenset({"slot_taken", "session_full"})


@router.post("/book/hold")
def hold(
    request: Request,
    user: Acting,
    db: DbDep,
    platform: PlatformDep,
    session_id: Annotated[int, Form(ge=1, le=2**31 - 1)],
    patient_id: Annotated[int, Form(ge=1, le=2**31 - 1)],
) -> Response:
    now = platform.clock.now()
    ctx = user.ctx
    request.state.audit = pending = PendingRecord(
        action="hold", at=now, ctx=ctx, account_id=user.account_id
    )
    gate(db, platform, ctx, record=pending, patient_id=patient_id)
    channel_id = ctx.channel_id or 0
    policy = booking_policy(platform.settings)
    # In a release batch's window a hold enters the batch instead of racing for a slot
    # (the channel API's 202): the entry, and its result when the batch has run.
    entered = batches.entry_for_hold(
        db,
        slot_id=None,
        session_id=session_id,
        account_id=user.account_id,
        patient_id=patient_id,
        now=now,
        ctx=ctx,
        policy=policy,
        protector=platform.protector,
    )
    if entered is not None:
        pending.extra = {"batch_entry": entered.entry.id}
        done(request, db, None)
        flag = "batch_entered" if entered.created else "batch_already"
        response = RedirectResponse(
            f"/entries/draw/{entered.entry.id}?done={flag}", status_code=303
        )
        return finish(request, response)
    try:
        slot_id = bookings.first_free_slot(
            db, session_id=session_id, now=now, channel_id=channel_id
        )
        pending.slot_id = slot_id
        booking = bookings.hold(
            db,
            account_id=user.account_id,
            patient_id=patient_id,
            slot_id=slot_id,
            now=now,
            ctx=ctx,
            policy=policy,
            rng=platform.rng,
            session_id=session_id,  # any free slot of the session, not a race for one
        )
        pending.slot_id = booking.slot_id
    except SlotUnavailable as exc:
        if exc.code not in CAPACITY_REFUSALS:
            raise
        return _gone(request, db, platform, user, exc, session_id=session_id, patient_id=patient_id)
    pending.booking_id = booking.id
    done(request, db, None)
    platform.memos.changed()  # this process's own answers show its own change at once
    response = RedirectResponse(f"/book/held/{booking.id}", status_code=303)
    return finish(request, response)


def _gone(
    request: Request,
    db: Session,
    platform: Platform,
    user: PatientUser,
    exc: SlotUnavailable,
    *,
    session_id: int,
    patient_id: int,
) -> Response:
    """The refusal, recorded as ``get_db`` records one (after the rollback), and the
    ranked alternatives read afterwards, each with a one-tap hold."""
    if exc.keep_changes:
        db.commit()
    else:
        db.rollback()
    pending = request.state.audit
    request.state.audit = None
    audit.write(db, pending=pending, outcome=exc.code)
    db.commit()
    found: list[AlternativeView] = []
    try:
        found = alternatives.alternatives_for(
            db,
            session_id=session_id,
            patient_id=patient_id,
            account_id=user.account_id,
            now=platform.clock.now(),
            channel_id=user.ctx.channel_id or 0,
            limits=booking_policy(platform.settings).limits,
            memo=platform.memos.alternatives,
        )
    except DomainError:
        found = []  # e.g. the patient is no longer bound: the refusal stands on its own
    db.commit()
    message = message_for(request, code=exc.code, detail=exc.detail, extra=exc.extra)
    return page(
        request,
        "patient/book_gone.html",
        user,
        {
            "message": message,
            "alternatives": found,
            "patient_id": patient_id,
            # A full session keeps a waitlist (候补): offered beside the alternatives.
            "waitlist_session": session_id if exc.code == "session_full" else None,
        },
        active="book",
        status=409,
    )


def mine(db: Session, platform: Platform, user: PatientUser, booking_id: str) -> AccountBookingView:
    """The account's own booking with its place (another's: 403 ``not_your_booking``)."""
    bookings.get_booking(
        db, booking_id=booking_id, account_id=user.account_id, channel_id=user.ctx.channel_id or 0
    )
    found = listing.account_bookings(
        db,
        account_id=user.account_id,
        channel_id=user.ctx.channel_id or 0,
        now=platform.clock.now(),
        limits=booking_policy(platform.settings).limits,
        limit=listing.MAX_PAGE,
    ).items
    for item in found:
        if item.booking_id == booking_id:
            return item
    raise NotFound("No such booking.", code="booking_not_found")


@router.get("/book/held/{booking_id}", response_class=HTMLResponse)
def held_page(
    request: Request,
    user: Patient,
    db: DbDep,
    platform: PlatformDep,
    booking_id: BookingId,
    payment: Annotated[str | None, Query(max_length=16)] = None,
) -> Response:
    """The hold and its countdown, or (once paid) the confirmation."""
    now = platform.clock.now()
    booking = mine(db, platform, user, booking_id)
    card = entries.session_card(db, session_id=booking.session_id)
    refund = payments.refund_of_booking(db, booking_id=booking.booking_id)
    done(request, db, None)
    if booking.status == BookingStatus.BOOKED:
        return page(request, "patient/book_done.html", user, {"b": booking}, active="book")
    left = max(0, int((booking.hold_expires_at - now).total_seconds()))
    response = page(
        request,
        "patient/book_held.html",
        user,
        {
            "b": booking,
            "live": booking.status == BookingStatus.HELD and left > 0,
            "left": left,
            "cancelled": payment == "cancelled",
            "refund": refund,
            # Back to the doctors and dates this hold was chosen from.
            "search": f"/book?hospital={card.hospital_id}&department={card.department_id}",
        },
        active="book",
    )
    return may_post_to_provider(response, platform)


@router.post("/book/held/{booking_id}/release")
def release(
    request: Request, user: Acting, db: DbDep, platform: PlatformDep, booking_id: BookingId
) -> Response:
    """Give the hold up (放弃此号): the channel API's cancellation of a hold (the slot
    cools for a random delay, as any returned slot), and its unpaid order closed."""
    now = platform.clock.now()
    request.state.audit = PendingRecord(
        action="cancel", at=now, ctx=user.ctx, account_id=user.account_id, booking_id=booking_id
    )
    booking = bookings.get_booking(
        db, booking_id=booking_id, account_id=user.account_id, channel_id=user.ctx.channel_id or 0
    )
    if booking.status != BookingStatus.HELD:
        raise StateConflict(
            f"This booking is {booking.status.value}, not a hold; see My bookings.",
            code="booking_not_cancellable",
        )
    bookings.cancel(
        db,
        booking_id=booking_id,
        account_id=user.account_id,
        now=now,
        ctx=user.ctx,
        channel_kind=user.channel_kind,
        policy=booking_policy(platform.settings),
        rng=platform.rng,
    )
    payments.abandon(db, booking_id=booking_id, now=now, actor=f"account:{user.account_id}")
    card = entries.session_card(db, session_id=booking.session_id)
    done(request, db, None)
    platform.memos.changed()
    # Back to the doctors and dates the hold was chosen from, to choose another.
    return after(
        request,
        f"/book?hospital={card.hospital_id}&department={card.department_id}",
        done="hold_released",
    )


@router.post("/book/held/{booking_id}/pay")
def pay(
    request: Request, user: Acting, db: DbDep, platform: PlatformDep, booking_id: BookingId
) -> Response:
    """Run the gate, open the order, and send the patient to the cashier."""
    now = platform.clock.now()
    channel_id = user.ctx.channel_id or 0
    request.state.audit = pending = PendingRecord(
        action="checkout", at=now, ctx=user.ctx, account_id=user.account_id, booking_id=booking_id
    )
    booking = bookings.get_booking(
        db, booking_id=booking_id, account_id=user.account_id, channel_id=channel_id
    )
    gate(db, platform, user.ctx, record=pending, patient_id=booking.patient_id)
    checkout = payments.checkout(
        db,
        booking_id=booking_id,
        account_id=user.account_id,
        channel_id=channel_id,
        provider=payment_provider(platform),
        return_url=f"/book/held/{booking_id}",
        now=now,
    )
    done(request, db, None)
    return finish(request, RedirectResponse(checkout.redirect_url, status_code=303))
