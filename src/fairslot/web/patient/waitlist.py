"""*Join the waitlist* (候补) of a full session: the rule explained (a returned slot goes to
a waiting patient drawn at random, not to the fastest), whom to enter, the fee
pre-authorised (``payments/preauth.py``), then the channel API's ``POST /v1/waitlist`` use
case (the same gate, record, rules and service). A returned slot is booked for the patient
by the placement (``waitlist/placement.py``) and shows in *My bookings*; the place, and
leaving it, are in ``entries.py``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from fairslot.api.deps import DbDep, PlatformDep, done
from fairslot.bookings.policy import booking_policy
from fairslot.entries import service as entries
from fairslot.patients import service as patients
from fairslot.payments.preauth import sandbox_payer
from fairslot.payments.providers import HttpProvider
from fairslot.waitlist import service as waitlist
from fairslot.waitlist.models import WaitStatus
from fairslot.web.patient.deps import Acting, Patient, finish
from fairslot.web.patient.draw import preauth_kind
from fairslot.web.patient.pages import page
from fairslot.web.patient.preauth import to_provider
from fairslot.web.patient.prepaid import prepay_and_gate
from fairslot.web.payments import may_post_to_provider, payment_provider

router = APIRouter(tags=["patient"], include_in_schema=False)

SessionId = Annotated[int, Path(ge=1, le=2**31 - 1)]


@router.get("/waitlist/session/{session_id}", response_class=HTMLResponse)
def waitlist_page(
    request: Request, user: Patient, db: DbDep, platform: PlatformDep, session_id: SessionId
) -> Response:
    now = platform.clock.now()
    card = entries.session_card(db, session_id=session_id)
    bound = patients.list_patients(
        db, account_id=user.account_id, now=now, protector=platform.protector
    )
    places = [
        w
        for w in entries.waitlist_places(db, account_id=user.account_id)
        if w.session.session_id == session_id and w.status == WaitStatus.WAITING
    ]
    done(request, db, None)
    waiting = {w.patient_id for w in places}
    policy = booking_policy(platform.settings)
    response = page(
        request,
        "patient/waitlist.html",
        user,
        {
            "s": card,
            "patients": [p for p in bound if p.patient_id not in waiting],
            "places": places,
            "names": {p.patient_id: p.name_masked for p in bound},
            "closed": now >= card.closes_at or not card.active,
            "preauth": preauth_kind(payment_provider(platform)),
            "payer": sandbox_payer(user.account_id),
            "enabled": policy.waitlist_enabled,
        },
        active="book",
    )
    return may_post_to_provider(response, platform)


@router.post("/waitlist/join")
def join(
    request: Request,
    user: Acting,
    db: DbDep,
    platform: PlatformDep,
    session_id: Annotated[int, Form(ge=1, le=2**31 - 1)],
    patient_id: Annotated[int, Form(ge=1, le=2**31 - 1)],
) -> Response:
    provider = payment_provider(platform)
    if isinstance(provider, HttpProvider):
        return to_provider(
            request,
            user,
            db,
            platform,
            provider,
            purpose="waitlist",
            action="waitlist_join",
            session_id=session_id,
            patient_id=patient_id,
        )
    paid = prepay_and_gate(
        request,
        user,
        db,
        platform,
        action="waitlist_join",
        session_id=session_id,
        patient_id=patient_id,
        extra={"session_id": str(session_id)},
    )
    entry = waitlist.join(
        db,
        account_id=user.account_id,
        patient_id=patient_id,
        session_id=session_id,
        payment_account=paid.pre.payment_account,
        payment_reference=paid.pre.payment_reference,
        now=paid.now,
        ctx=user.ctx,
        policy=booking_policy(platform.settings),
        rng=platform.rng,
        protector=platform.protector,
    )
    paid.pending.extra["waitlist_id"] = entry.id
    done(request, db, None)
    platform.memos.changed()
    response = RedirectResponse(f"/entries?done=waitlist_joined#w-{entry.id}", status_code=303)
    return finish(request, response)
