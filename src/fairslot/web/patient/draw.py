"""*Enter a draw* (摇号登记): a session of a draw-mode department, before its release,
while the intent window is open. The patient chooses whom to enter; the fee is
pre-authorised (``payments/preauth.py``: the sandbox cashier's account in development and
the demo; with a configured provider, at the provider, whose signed callback makes the
entry: ``preauth.py``); then the channel API's
``POST /v1/intents`` use case registers the one chance (the same gate, record, rules and
service). A repeat answers the same entry. The entry and its result are ``entries.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from fairslot.allocation import service as allocation
from fairslot.allocation.errors import DrawNotFound, IntentWindowClosed, NotADrawSession
from fairslot.allocation.states import AllocationMode, DrawStatus, IntentStatus
from fairslot.api.deps import DbDep, PlatformDep, done
from fairslot.bookings.policy import booking_policy
from fairslot.entries import service as entries
from fairslot.entries.schemas import SessionCard
from fairslot.patients import service as patients
from fairslot.payments.preauth import sandbox_payer
from fairslot.payments.providers import HttpProvider, SandboxCashier
from fairslot.web.patient.deps import Acting, Patient, finish
from fairslot.web.patient.pages import page
from fairslot.web.patient.preauth import to_provider
from fairslot.web.patient.prepaid import prepay_and_gate
from fairslot.web.payments import may_post_to_provider, payment_provider

router = APIRouter(tags=["patient"], include_in_schema=False)

SessionId = Annotated[int, Path(ge=1, le=2**31 - 1)]


@dataclass(frozen=True)
class Window:
    """The session's draw as a patient may know it before the draw."""

    state: str  # "open" (intents taken now), "soon" (opens later), "closed" (drawn or due)
    opens_at: datetime | None = None
    due_at: datetime | None = None
    draw_id: int | None = None
    commitment: str | None = None  # published from the window's start


def window_of(db: Session, card: SessionCard, *, now: datetime) -> Window:
    times = allocation.draw_window(
        db, department_id=card.department_id, session_date=card.session_date
    )
    if times is None:
        return Window("closed")
    opens_at, due_at = times
    try:
        draw = allocation.find_draw(
            db, department_id=card.department_id, session_date=card.session_date
        )
    except DrawNotFound:
        draw = None  # made by the first intent, or by the worker when the window opens
    if (draw is not None and draw.status != DrawStatus.OPEN) or now >= due_at:
        state = "closed"
    else:
        state = "soon" if now < opens_at else "open"
    return Window(
        state,
        opens_at=opens_at,
        due_at=due_at,
        draw_id=draw.id if draw else None,
        commitment=draw.seed_commitment if draw else None,
    )


@router.get("/draw/session/{session_id}", response_class=HTMLResponse)
def draw_page(
    request: Request, user: Patient, db: DbDep, platform: PlatformDep, session_id: SessionId
) -> Response:
    """The session, the draw's rule and window, whom to enter, and the pre-authorisation."""
    now = platform.clock.now()
    card = entries.session_card(db, session_id=session_id)
    if card.allocation_mode != AllocationMode.DRAW:
        raise NotADrawSession("This department sells first-come at release; hold a slot then.")
    window = window_of(db, card, now=now)
    bound = patients.list_patients(
        db, account_id=user.account_id, now=now, protector=platform.protector
    )
    mine = [
        e
        for e in entries.draw_entries(db, patient_ids=[p.patient_id for p in bound])
        if e.session_date == card.session_date
        and e.session is not None
        and e.session.department_id == card.department_id
    ]
    done(request, db, None)
    provider = payment_provider(platform)
    # One chance each: a patient with an entry (other than one withdrawn) is not offered.
    entered = {e.patient_id for e in mine if e.status != IntentStatus.WITHDRAWN}
    response = page(
        request,
        "patient/draw.html",
        user,
        {
            "s": card,
            "w": window,
            "left": _seconds(window.due_at, now) if window.state == "open" else 0,
            "opens_in": _seconds(window.opens_at, now) if window.state == "soon" else 0,
            "patients": [p for p in bound if p.patient_id not in entered],
            "mine": mine,
            "names": {p.patient_id: p.name_masked for p in bound},
            "preauth": preauth_kind(provider),
            "payer": sandbox_payer(user.account_id),
        },
        active="book",
    )
    return may_post_to_provider(response, platform)


@router.post("/draw/enter")
def enter(
    request: Request,
    user: Acting,
    db: DbDep,
    platform: PlatformDep,
    session_id: Annotated[int, Form(ge=1, le=2**31 - 1)],
    patient_id: Annotated[int, Form(ge=1, le=2**31 - 1)],
) -> Response:
    provider = payment_provider(platform)
    if isinstance(provider, HttpProvider):
        now = platform.clock.now()
        card = entries.session_card(db, session_id=session_id)
        if card.allocation_mode != AllocationMode.DRAW:
            raise NotADrawSession("This department sells first-come at release; hold a slot then.")
        # Not sent to the provider for a window that has closed: nothing to pre-authorise.
        if window_of(db, card, now=now).state != "open":
            raise IntentWindowClosed(
                "The intent window for this session is not open.",
                detail_zh="该时段现在不接受摇号登记。",
            )
        return to_provider(
            request,
            user,
            db,
            platform,
            provider,
            purpose="draw",
            action="intent",
            session_id=session_id,
            patient_id=patient_id,
        )
    paid = prepay_and_gate(
        request, user, db, platform, action="intent", session_id=session_id, patient_id=patient_id
    )
    intent, created = allocation.register_intent(
        db,
        account_id=user.account_id,
        patient_id=patient_id,
        target=allocation.IntentTarget(session_id=session_id),
        payment_account=paid.pre.payment_account,
        payment_reference=paid.pre.payment_reference,
        now=paid.now,
        ctx=user.ctx,
        policy=booking_policy(platform.settings),
        protector=platform.protector,
    )
    paid.pending.extra = {"intent_id": intent.id, "created": str(created).lower()}
    done(request, db, None)
    flag = "draw_entered" if created else "draw_already"
    response = RedirectResponse(f"/entries/draw/{intent.id}?done={flag}", status_code=303)
    return finish(request, response)


def preauth_kind(provider: object) -> str | None:
    """How the pages pre-authorise with this provider: at once in the sandbox, at the
    provider (a redirect) with a configured one, or not at all."""
    if isinstance(provider, SandboxCashier):
        return "sandbox"
    return "provider" if isinstance(provider, HttpProvider) else None


def _seconds(at: datetime | None, now: datetime) -> int:
    return max(0, int((at - now).total_seconds())) if at is not None else 0
