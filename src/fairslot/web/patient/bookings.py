"""*My bookings* (我的预约): upcoming and past, cancel (the cut-off and the random
re-release explained; a paid booking's fee refunded, and where to), no-show bans with their
end, payments that arrived too late (``refund_due``) with where the money goes back. The
same use cases as the channel API (``GET /v1/accounts/{id}/bookings``,
``POST /v1/bookings/{id}/cancel``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, Response

from fairslot.api.deps import DbDep, PlatformDep, done
from fairslot.audit.service import PendingRecord
from fairslot.bookings import listing
from fairslot.bookings import service as bookings
from fairslot.bookings.policy import booking_policy
from fairslot.bookings.states import BookingStatus
from fairslot.patients import service as patients
from fairslot.payments import service as payments
from fairslot.web.patient.deps import Acting, Patient
from fairslot.web.patient.pages import after, page

router = APIRouter(tags=["patient"], include_in_schema=False)

PENDING = frozenset({BookingStatus.HELD, BookingStatus.BOOKED})


@router.get("/bookings", response_class=HTMLResponse)
def bookings_page(request: Request, user: Patient, db: DbDep, platform: PlatformDep) -> Response:
    now = platform.clock.now()
    request.state.audit = PendingRecord(
        action="list_bookings", at=now, ctx=user.ctx, account_id=user.account_id
    )
    policy = booking_policy(platform.settings)
    found = listing.account_bookings(
        db,
        account_id=user.account_id,
        channel_id=user.ctx.channel_id or 0,
        now=now,
        limits=policy.limits,
        limit=listing.MAX_PAGE,
    ).items
    bound = patients.list_patients(
        db, account_id=user.account_id, now=now, protector=platform.protector
    )
    bans = listing.bans(
        db,
        patients=[(p.patient_id, p.name_masked) for p in bound],
        now=now,
        limits=policy.limits,
        zone=user.zone,
    )
    refunds = payments.refunds_of_account(db, account_id=user.account_id)
    done(request, db, None)
    upcoming = sorted(
        (b for b in found if b.status in PENDING and b.slot_ends_at >= now),
        key=lambda b: b.slot_starts_at,
    )
    past = [b for b in found if b not in upcoming]
    return page(
        request,
        "patient/bookings.html",
        user,
        {
            "upcoming": upcoming,
            "past": past,
            "bans": bans,
            "refunds": refunds,
            "cutoff": policy.limits.cancel_cutoff_minutes,
            "cool_min": policy.cooling_min_minutes,
            "cool_max_hours": max(1, policy.cooling_max_minutes // 60),
        },
        active="bookings",
    )


@router.post("/bookings/{booking_id}/cancel")
def cancel(
    request: Request,
    user: Acting,
    db: DbDep,
    platform: PlatformDep,
    booking_id: Annotated[str, Path(min_length=1, max_length=36)],
) -> Response:
    now = platform.clock.now()
    request.state.audit = PendingRecord(
        action="cancel", at=now, ctx=user.ctx, account_id=user.account_id, booking_id=booking_id
    )
    paid = (
        bookings.get_booking(
            db,
            booking_id=booking_id,
            account_id=user.account_id,
            channel_id=user.ctx.channel_id or 0,
        ).status
        == BookingStatus.BOOKED
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
    done(request, db, None)
    platform.memos.changed()
    # A paid booking's fee goes back: the page says where and how long it takes.
    return after(request, "/bookings", done="cancelled_paid" if paid else "cancelled")
