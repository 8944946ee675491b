"""Entering a draw or a waitlist with a configured payment provider: the fee is
pre-authorised at the provider (``payments/preauth_orders.py``), whose signed callback
makes the entry. Here: after the gate, the redirect to the provider; and the page the
provider sends the patient back to (``/preauth/{order}``), which shows the entry once the
callback made it, the wait while it has not come, or why nothing was entered."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from fairslot.api.deps import DbDep, PlatformDep, done, gate
from fairslot.audit.service import PendingRecord
from fairslot.bootstrap import Platform
from fairslot.entries import service as entries
from fairslot.payments import preauth_orders
from fairslot.payments.providers import HttpProvider
from fairslot.payments.states import PreauthStatus
from fairslot.web.patient.deps import Patient, PatientUser, finish
from fairslot.web.patient.errors import message_for
from fairslot.web.patient.pages import page

router = APIRouter(tags=["patient"], include_in_schema=False)

OrderId = Annotated[str, Path(min_length=1, max_length=36, pattern=r"^[0-9a-f-]+$")]


def to_provider(
    request: Request,
    user: PatientUser,
    db: Session,
    platform: Platform,
    provider: HttpProvider,
    *,
    purpose: preauth_orders.Purpose,
    action: str,
    session_id: int,
    patient_id: int,
) -> Response:
    """Start the request's record, pass the gate, open the order, and send the patient to
    the provider to pre-authorise the session's fee."""
    now = platform.clock.now()
    card = entries.session_card(db, session_id=session_id)
    request.state.audit = pending = PendingRecord(
        action=action,
        at=now,
        ctx=user.ctx,
        account_id=user.account_id,
        extra={"session_id": str(session_id)},
    )
    gate(db, platform, user.ctx, record=pending, patient_id=patient_id)
    checkout = preauth_orders.start(
        db,
        purpose=purpose,
        account_id=user.account_id,
        patient_id=patient_id,
        session_id=session_id,
        amount=card.fee,
        ctx=user.ctx,
        provider=provider,
        now=now,
    )
    pending.extra["preauth_order"] = checkout.order_id
    done(request, db, None)
    return finish(request, RedirectResponse(checkout.redirect_url, status_code=303))


@router.get("/preauth/{order_id}", response_class=HTMLResponse)
def returned(
    request: Request, user: Patient, db: DbDep, platform: PlatformDep, order_id: OrderId
) -> Response:
    """Back from the provider: the entry made, or the wait, or why nothing was entered."""
    order = preauth_orders.get_preauth(db, order_id=order_id, account_id=user.account_id)
    status, purpose, entry_id = order.status, order.purpose, order.entry_id
    session_id, refusal = order.session_id, order.refusal
    done(request, db, None)
    if status == PreauthStatus.ENTERED and entry_id:
        target = (
            f"/entries?done=waitlist_joined#w-{entry_id}"
            if purpose == "waitlist"
            else f"/entries/draw/{entry_id}?done=draw_entered"
        )
        return finish(request, RedirectResponse(target, status_code=303))
    back = (
        f"/waitlist/session/{session_id}"
        if purpose == "waitlist"
        else f"/draw/session/{session_id}"
    )
    message = None
    if status == PreauthStatus.RELEASED and refusal:
        message = message_for(request, code=refusal, detail=refusal, extra={})
    return page(
        request,
        "patient/preauth.html",
        user,
        {
            "state": status.value,
            "purpose": purpose,
            "message": message,
            "back": back,
            "again": request.url.path,
        },
        active="book",
    )
