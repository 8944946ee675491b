"""The worker's sweep: housekeeping the clock makes due, with a returned slot going to
the patients waiting for it first.

Bookings' part (lapsed holds, cooled slots) is ``bookings/sweeps.py``; it sits below the
waitlist, so the waiting patients reach it here, as the taker ``settle_slot`` hands
each re-released slot to (what a draw owes, then the waitlist: ``placement.py``).
"""

from __future__ import annotations

import random
from datetime import datetime

from sqlalchemy.orm import Session

from fairslot.bookings import sweeps as bookings
from fairslot.bookings.policy import BookingPolicy
from fairslot.bookings.sweeps import SweepReport as SweepReport
from fairslot.crypto import Protector
from fairslot.waitlist import placement


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
    closed = placement.close_stale_entries(db, now=now, limit=limit)
    expired = bookings.expire_lapsed_holds(db, now=now, policy=policy, rng=rng, limit=limit)
    take = placement.returned_slot_taker(db, now=now, policy=policy, rng=rng, protector=protector)
    settled = bookings.settle_cooled_slots(db, now=now, take_returned=take, limit=limit)
    return SweepReport(
        holds_expired=expired,
        slots_re_released=settled.re_released,
        waitlist_booked=settled.taken,
        waitlist_closed=closed,
    )
