"""Housekeeping the clock makes due. The release gate never depends on these running:
they only write the ledger rows for what the clock already decided (expired holds,
re-released slots) so histories are complete even for slots nobody touches.

One thing does depend on it: a slot that comes back while patients wait for its session
is booked for one of them here (候补), so that a slot nobody touches never sits on open
sale for the first poller to find.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from fairslot.bookings import repository as repo
from fairslot.bookings import transitions
from fairslot.bookings.policy import BookingPolicy
from fairslot.bookings.service import cooling_delay
from fairslot.crypto import Protector
from fairslot.waitlist import placement as waitlist


@dataclass(frozen=True)
class SweepReport:
    holds_expired: int
    slots_re_released: int
    waitlist_booked: int = 0
    waitlist_closed: int = 0


def sweep(
    db: Session,
    *,
    now: datetime,
    policy: BookingPolicy,
    rng: random.Random,
    limit: int = 500,
    protector: Protector | None = None,
) -> SweepReport:
    """``protector`` lets the waitlist placement check waiting patients' devices and
    networks against the blacklist too (their other identifiers are checked without it)."""
    # First close the entries of sessions that closed or were withdrawn: nobody should
    # be booked for a session that can no longer be booked.
    closed = waitlist.close_stale_entries(db, now=now, limit=limit)
    expired = sum(
        1
        for booking in repo.stale_holds(db, now=now, limit=limit)
        if transitions.expire_hold(db, booking=booking, now=now, cooling=cooling_delay(policy, rng))
    )
    take = waitlist.returned_slot_taker(db, now=now, policy=policy, rng=rng, protector=protector)
    reopened = booked = 0
    for slot in repo.cooling_due(db, now=now, limit=limit):
        session = repo.get_session(db, slot.session_id)
        assert session is not None
        booked += transitions.settle_slot(
            db, slot=slot, session=session, now=now, take_returned=take
        )
        reopened += 1
    return SweepReport(
        holds_expired=expired,
        slots_re_released=reopened,
        waitlist_booked=booked,
        waitlist_closed=closed,
    )
