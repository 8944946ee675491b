"""The home page (big buttons) and *Help* (求助): a "problem booking?" request that lands
in the call desk as a call task (``followup/help.py``), recorded like any request."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from starlette.routing import NoMatchFound

from fairslot.api.deps import DbDep, PlatformDep, done
from fairslot.audit.service import PendingRecord
from fairslot.bookings import listing
from fairslot.bookings import service as bookings
from fairslot.bookings.policy import booking_policy
from fairslot.followup import help as followup_help
from fairslot.patients import service as patients
from fairslot.web.patient.deps import Acting, MaybePatient, Patient
from fairslot.web.patient.pages import after, page

router = APIRouter(tags=["patient"], include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def home(request: Request, user: MaybePatient) -> Response:
    try:
        # Find-and-book is its own page area (``book.py``, route name ``patient_book``).
        book_url: str | None = request.app.url_path_for("patient_book")
    except NoMatchFound:
        book_url = None
    return page(request, "patient/home.html", user, {"book_url": book_url}, active="home")


@router.get("/help", response_class=HTMLResponse)
def help_page(request: Request, user: Patient, db: DbDep, platform: PlatformDep) -> Response:
    now = platform.clock.now()
    bound = patients.list_patients(
        db, account_id=user.account_id, now=now, protector=platform.protector
    )
    recent = listing.account_bookings(
        db,
        account_id=user.account_id,
        channel_id=user.ctx.channel_id or 0,
        now=now,
        limits=booking_policy(platform.settings).limits,
        limit=10,
    ).items
    done(request, db, None)
    return page(
        request, "patient/help.html", user, {"patients": bound, "bookings": recent}, active="help"
    )


@router.post("/help")
def ask_for_help(
    request: Request,
    user: Acting,
    db: DbDep,
    platform: PlatformDep,
    patient_id: Annotated[int, Form(ge=1, le=2**31 - 1)],
    booking_id: Annotated[str, Form(max_length=36)] = "",
    question: Annotated[str, Form(max_length=followup_help.MAX_QUESTION)] = "",
) -> Response:
    now = platform.clock.now()
    request.state.audit = PendingRecord(
        action="help", at=now, ctx=user.ctx, account_id=user.account_id
    )
    patients.require_binding(
        db, account_id=user.account_id, patient_id=patient_id, channel_id=user.ctx.channel_id
    )
    # A booking named must be the account's own through this channel (else 404).
    chosen = (
        bookings.get_booking(
            db,
            booking_id=booking_id,
            account_id=user.account_id,
            channel_id=user.ctx.channel_id or 0,
        ).id
        if booking_id
        else None
    )
    task = followup_help.request_help(
        db, patient_id=patient_id, booking_id=chosen, question=question, now=now
    )
    request.state.audit.extra = {"call_task": str(task.id)}
    done(request, db, None)
    return after(request, "/help", done="help_sent")
