"""*Slot trace* (every role that judges, audits or supports a booking): find a slot by
its GUID or by a booking id, and read its ledger as a timeline with the replayed state —
what ``fairslot slot trace`` prints, for staff. Other pages link to ``/console/slots/{guid}``.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from fairslot.api.deps import DbDep, PlatformDep, done
from fairslot.errors import DomainError
from fairslot.ledger.trace import slot_of_booking, trace_slot
from fairslot.web.console.deps import ConsoleUser, SlotTracer
from fairslot.web.console.errors import message_for
from fairslot.web.console.pages import page

router = APIRouter(prefix="/console", include_in_schema=False)

Text = Annotated[str | None, Query(max_length=64)]


def _to_trace(guid: str) -> RedirectResponse:
    return RedirectResponse(f"/console/slots/{quote(guid.strip(), safe='')}", status_code=303)


def _search(
    request: Request,
    user: ConsoleUser,
    *,
    guid: str = "",
    booking_id: str = "",
    refusal: DomainError | None = None,
) -> HTMLResponse:
    """The search form; after a refusal, with its message (and its status)."""
    message = (
        message_for(request, code=refusal.code, detail=refusal.detail, extra=refusal.extra)
        if refusal is not None
        else None
    )
    return page(
        request,
        "console/slots.html",
        user,
        {"guid": guid, "booking_id": booking_id, "message": message},
        active="slots",
        status=refusal.status if refusal is not None else 200,
    )


@router.get("/slots", response_class=HTMLResponse)
def search(
    request: Request, user: SlotTracer, db: DbDep, guid: Text = None, booking_id: Text = None
) -> Response:
    """The form; ``?guid=`` opens that slot, ``?booking_id=`` the slot of that booking."""
    if guid and guid.strip():
        return _to_trace(guid)
    if booking_id and booking_id.strip():
        try:
            slot_id = slot_of_booking(db, booking_id=booking_id)
        except DomainError as exc:
            return _search(request, user, booking_id=booking_id, refusal=exc)
        return _to_trace(slot_id)
    return _search(request, user)


@router.get("/slots/{guid}", response_class=HTMLResponse)
def trace(
    request: Request, user: SlotTracer, db: DbDep, platform: PlatformDep, guid: str
) -> HTMLResponse:
    try:
        found = trace_slot(
            db,
            slot_id=guid[:64],
            protector=platform.protector,
            actor=user.actor,
            now=platform.clock.now(),
        )
    except DomainError as exc:
        return _search(request, user, guid=guid[:64], refusal=exc)
    done(request, db, found)
    return page(request, "console/slot.html", user, {"slot": found}, active="slots")
