"""Housekeeping the clock makes due. The release gate never depends on these running:
they only write the ledger rows for what the clock already decided (expired holds,
re-released slots) so histories are complete even for slots nobody touches."""

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
    holds_expired: int
    slots_re_released: int


def sweep(
    db: Session, *, now: datetime, policy: BookingPolicy, rng: random.Random, limit: int = 500
) -> SweepReport:
    expired = sum(
        1
        for booking in repo.stale_holds(db, now=now, limit=limit)
        if transitions.expire_hold(db, booking=booking, now=now, cooling=cooling_delay(policy, rng))
    )
    reopened = 0
    for slot in repo.cooling_due(db, now=now, limit=limit):
        session = repo.get_session(db, slot.session_id)
        assert session is not None
        transitions.settle_slot(db, slot=slot, session=session, now=now)
        reopened += 1
    return SweepReport(holds_expired=expired, slots_re_released=reopened)
