"""*My draws and waitlists* (摇号与候补): the account's draw entries and waitlist places with
their state; an entry's page (before the draw: its window and commitment, withdraw; after
it: won — the booking, paid from the pre-authorisation; lost — ranked alternatives, each
one tap from a hold, and the session's waitlist; and the draw's verification); leaving a
waitlist. The same use cases as the channel API (``GET/DELETE /v1/intents/{id}``,
``DELETE /v1/waitlist/{id}``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, Response

from fairslot.allocation import service as allocation
from fairslot.allocation.states import DrawStatus, IntentStatus
from fairslot.alternatives import service as alternatives
from fairslot.alternatives.schemas import AlternativeView
from fairslot.api.deps import DbDep, PlatformDep, done
from fairslot.audit.service import PendingRecord
from fairslot.bookings.policy import booking_policy
from fairslot.bookings.schemas import AccountBookingView
from fairslot.entries import service as entries
from fairslot.errors import DomainError
from fairslot.patients import service as patients
from fairslot.waitlist import service as waitlist
from fairslot.web.patient.book_hold import mine
from fairslot.web.patient.deps import Acting, Patient
from fairslot.web.patient.pages import after, page

router = APIRouter(tags=["patient"], include_in_schema=False)

EntryId = Annotated[str, Path(min_length=1, max_length=36, pattern=r"^[0-9a-f-]+$")]


@router.get("/entries", response_class=HTMLResponse)
def entries_page(request: Request, user: Patient, db: DbDep, platform: PlatformDep) -> Response:
    now = platform.clock.now()
    bound = patients.list_patients(
        db, account_id=user.account_id, now=now, protector=platform.protector
    )
    draws = entries.draw_entries(db, patient_ids=[p.patient_id for p in bound])
    places = entries.waitlist_places(db, account_id=user.account_id)
    done(request, db, None)
    return page(
        request,
        "patient/entries.html",
        user,
        {"draws": draws, "places": places, "names": {p.patient_id: p.name_masked for p in bound}},
        active="entries",
    )


@router.get("/entries/draw/{intent_id}", response_class=HTMLResponse)
def draw_entry_page(
    request: Request, user: Patient, db: DbDep, platform: PlatformDep, intent_id: EntryId
) -> Response:
    now = platform.clock.now()
    channel_id = user.ctx.channel_id or 0
    row = entries.draw_entry(
        db, intent_id=intent_id, account_id=user.account_id, channel_id=channel_id
    )
    bound = patients.list_patients(
        db, account_id=user.account_id, now=now, protector=platform.protector
    )
    booking: AccountBookingView | None = None
    if row.booking_id is not None:
        try:
            booking = mine(db, platform, user, row.booking_id)
        except DomainError:
            booking = None  # booked through another account of the same patient
    found: list[AlternativeView] = []
    if row.status == IntentStatus.LOST and row.session is not None:
        try:
            found = alternatives.alternatives_for(
                db,
                session_id=row.session.session_id,
                patient_id=row.patient_id,
                account_id=user.account_id,
                now=now,
                channel_id=channel_id,
                limits=booking_policy(platform.settings).limits,
                memo=platform.memos.alternatives,
            )
        except DomainError:
            found = []  # e.g. the patient was unbound since: the loss stands on its own
    done(request, db, None)
    open_ = row.draw_status == DrawStatus.OPEN and now < row.due_at
    return page(
        request,
        "patient/draw_entry.html",
        user,
        {
            "e": row,
            "name": next((p.name_masked for p in bound if p.patient_id == row.patient_id), ""),
            "open": open_,
            "left": max(0, int((row.due_at - now).total_seconds())) if open_ else 0,
            "booking": booking,
            "alternatives": found,
            "session_released": row.session is not None and now >= row.session.release_at,
        },
        active="entries",
    )


@router.post("/entries/draw/{intent_id}/withdraw")
def withdraw(
    request: Request, user: Acting, db: DbDep, platform: PlatformDep, intent_id: EntryId
) -> Response:
    now = platform.clock.now()
    request.state.audit = PendingRecord(
        action="withdraw_intent", at=now, ctx=user.ctx, account_id=user.account_id
    )
    allocation.withdraw_intent(
        db, intent_id=intent_id, account_id=user.account_id, now=now, ctx=user.ctx
    )
    done(request, db, None)
    return after(request, f"/entries/draw/{intent_id}", done="draw_withdrawn")


@router.post("/entries/waitlist/{entry_id}/leave")
def leave(
    request: Request, user: Acting, db: DbDep, platform: PlatformDep, entry_id: EntryId
) -> Response:
    now = platform.clock.now()
    request.state.audit = PendingRecord(
        action="waitlist_leave",
        at=now,
        ctx=user.ctx,
        account_id=user.account_id,
        extra={"waitlist_id": entry_id},
    )
    waitlist.leave(
        db,
        entry_id=entry_id,
        account_id=user.account_id,
        channel_id=user.ctx.channel_id or 0,
        now=now,
    )
    done(request, db, None)
    platform.memos.changed()
    return after(request, "/entries", done="waitlist_left")
