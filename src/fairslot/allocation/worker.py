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

from fairslot.allocation import batch_repository as batch_repo
from fairslot.allocation import (
    batches,
    drawing,
    modes,
    scarcity,
    screening_review,
    screening_service,
    service,
)
from fairslot.allocation import repository as repo
from fairslot.allocation.screening_ports import CaseDesk
from fairslot.bookings.policy import BookingPolicy
from fairslot.crypto import Protector

# Windows open at the push, or up to this much earlier (``intent_lead_minutes``); a
# longer lead still works, the draw is then made by the first intent instead.
LOOK_AHEAD = timedelta(days=2)


@dataclass(frozen=True)
class DrawReport:
    opened: int
    drawn: int
    held: int = 0  # entries the pre-draw screening held out for review during the window
    remedied: int = 0  # entries cleared after their draw, booked now (screening_service)


def run_due_draws(
    db: Session,
    *,
    now: datetime,
    policy: BookingPolicy,
    rng: random.Random,
    protector: Protector,
    desk: CaseDesk,
    limit: int = 100,
) -> DrawReport:
    """Open the draws whose window has begun (publishing their commitment) and run those
    that are due. Draw-mode sessions stay off sale until their draw has run, so a
    department-day nobody registered for is drawn too (with no intents), then sold.

    Before that, in the same transaction: renew the scarcity verdicts that are due
    (``modes.judge_due``) and open the release batches of the department-days they put in
    batch mode, from their push (a day already released when its department turned
    scarce gets a batch already due, run below with whatever entered: its sessions are
    never left off sale).

    ``desk`` is the review cases as the pre-draw screening sees them
    (``screening_ports.py``), handed down by the composition root."""
    rule = scarcity.ScarcityRule(unknown_is_scarce=policy.scarce_without_history)
    modes.judge_due(db, now=now, rule=rule)
    opened = 0
    for department_id, day in batch_repo.unbatched_department_days(
        db, now=now, pushed_before=now, limit=limit * 5
    ):
        if batches.ensure_batch(
            db,
            department_id=department_id,
            session_date=day,
            protector=protector,
            default_seconds=policy.batch_window_seconds,
        ):
            opened += 1
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
    # Screening during the window, not only at the draw: reviewers get the window's time.
    held = screening_service.screen_open_draws(db, now=now, protector=protector, desk=desk)
    drawn = 0
    for draw in repo.due_draws(db, now=now, limit=limit):
        if drawing.run_draw(
            db, draw=draw, now=now, policy=policy, rng=rng, protector=protector, desk=desk
        ):
            drawn += 1
    remedied = screening_review.settle_owed(db, now=now, policy=policy, rng=rng)
    return DrawReport(opened=opened, drawn=drawn, held=held, remedied=remedied)
