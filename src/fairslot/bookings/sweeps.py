"""Housekeeping the clock makes due, as far as bookings go. The release gate never
depends on these running: they only write the ledger rows for what the clock already
decided (expired holds, re-released slots) so histories are complete even for slots
nobody touches.

A slot whose cooling is over goes to the patients waiting for it first (what a draw
owes, then the waitlist, 候补): it is settled here with the taker the caller gives, in
the same transaction, so that a slot nobody touches never sits on open sale for the
first poller to find. The waiting patients are a domain above bookings; the worker's
whole sweep, which builds that taker, is ``waitlist/sweeps.py``.
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


@dataclass(frozen=True)
class SweepReport:
    """What one sweep did (``waitlist/sweeps.py::sweep`` fills the waitlist's part)."""

    holds_expired: int
    slots_re_released: int
    waitlist_booked: int = 0
    waitlist_closed: int = 0


def expire_lapsed_holds(
    db: Session, *, now: datetime, policy: BookingPolicy, rng: random.Random, limit: int = 500
) -> int:
    """Expire the holds not paid in time (their slots then cool); returns how many."""
    return sum(
        1
        for booking in repo.stale_holds(db, now=now, limit=limit)
        if transitions.expire_hold(db, booking=booking, now=now, cooling=cooling_delay(policy, rng))
    )


@dataclass(frozen=True)
class Settled:
    re_released: int
    taken: int  # of which ``take_returned`` booked for a waiting patient


def settle_cooled_slots(
    db: Session,
    *,
    now: datetime,
    take_returned: transitions.ReturnedSlotTaker,
    limit: int = 500,
) -> Settled:
    """Re-release the slots whose cooling is over, each handed to ``take_returned`` in
    the same transaction (``transitions.settle_slot``)."""
    reopened = taken = 0
    for slot in repo.cooling_due(db, now=now, limit=limit):
        session = repo.get_session(db, slot.session_id)
        assert session is not None
        taken += transitions.settle_slot(
            db, slot=slot, session=session, now=now, take_returned=take_returned
        )
        reopened += 1
    return Settled(re_released=reopened, taken=taken)
