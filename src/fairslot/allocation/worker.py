"""Draws the clock has made due, run without anyone awake.

A draw that fell due while the worker was down runs when it comes back, with the same
result: the seed was fixed (and committed to) when the draw was made, and the inputs are
the intents registered before the due time.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from fairslot.allocation import drawing, service
from fairslot.allocation import repository as repo
from fairslot.bookings.policy import BookingPolicy
from fairslot.crypto import Protector

# Windows open at the push, or up to this much earlier (``intent_lead_minutes``); a
# longer lead still works, the draw is then made by the first intent instead.
LOOK_AHEAD = timedelta(days=2)


@dataclass(frozen=True)
class DrawReport:
    opened: int
    drawn: int


def run_due_draws(
    db: Session,
    *,
    now: datetime,
    policy: BookingPolicy,
    rng: random.Random,
    protector: Protector,
    limit: int = 100,
) -> DrawReport:
    """Open the draws whose window has begun (publishing their commitment) and run those
    that are due. Draw-mode sessions stay off sale until their draw has run, so a
    department-day nobody registered for is drawn too (with no intents), then sold."""
    opened = 0
    for department_id, day in repo.undrawn_department_days(
        db, now=now, pushed_before=now + LOOK_AHEAD, limit=limit * 5
    ):
        # The commitment appears when the window opens, not before.
        window = service.draw_window(db, department_id=department_id, session_date=day)
        if window is None or window[0] > now:
            continue
        if service.ensure_draw(
            db, department_id=department_id, session_date=day, protector=protector
        ):
            opened += 1
    drawn = 0
    for draw in repo.due_draws(db, now=now, limit=limit):
        if drawing.run_draw(db, draw=draw, now=now, policy=policy, rng=rng, protector=protector):
            drawn += 1
    return DrawReport(opened=opened, drawn=drawn)
