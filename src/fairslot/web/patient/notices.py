"""*Notifications* (消息): what the platform told this account — draw results, waitlist
bookings and closures, bookings withdrawn or cancelled by the hospital — from the same
outbox a channel program reads (``notifications/feed.py``). Opening the page marks them
read; the header counts the unread ones (``deps.py::session_user``)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from fairslot.api.deps import DbDep, PlatformDep, done
from fairslot.audit.service import PendingRecord
from fairslot.bookings import listing
from fairslot.bookings.policy import booking_policy
from fairslot.notifications import feed
from fairslot.web.patient.deps import Patient
from fairslot.web.patient.pages import page

router = APIRouter(tags=["patient"], include_in_schema=False)

# The kinds the page words itself (``notices.kinds.<kind>``); any other reads as "other".
KINDS = frozenset(
    {
        "draw_won",
        "draw_lost",
        "draw_refused",
        "batch_won",
        "batch_lost",
        "batch_refused",
        "intent_under_review",
        "intent_review_decided",
        "waitlist_booked",
        "waitlist_closed",
        "booking_withdrawn",
        "booking_cancelled",
        "booking_confirmed",
    }
)


@router.get("/notifications", response_class=HTMLResponse)
def notifications_page(
    request: Request, user: Patient, db: DbDep, platform: PlatformDep
) -> Response:
    now = platform.clock.now()
    channel_id = user.ctx.channel_id or 0
    request.state.audit = PendingRecord(
        action="notifications", at=now, ctx=user.ctx, account_id=user.account_id
    )
    found = feed.account_feed(db, channel_id=channel_id, account_id=user.account_id)
    mine = listing.account_bookings(
        db,
        account_id=user.account_id,
        channel_id=channel_id,
        now=now,
        limits=booking_policy(platform.settings).limits,
        limit=listing.MAX_PAGE,
    ).items
    if found.items:
        feed.mark_read(
            db,
            channel_id=channel_id,
            account_id=user.account_id,
            up_to=max(n.id for n in found.items),
            now=now,
        )
    done(request, db, None)
    return page(
        request,
        "patient/notifications.html",
        user,
        {
            "items": found.items,
            "kinds": KINDS,
            "bookings": {b.booking_id: b for b in mine},
            # The header counted them before the page was opened: now they are read.
            "unread_now": 0,
        },
        active="notifications",
    )
