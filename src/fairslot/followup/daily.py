"""The worker's daily follow-up sample: yesterday's confirmed bookings, once, after the
daily batch (``risk_run_local_time``), so customer service finds the day's calls queued.

The day is the batch's, which the worker reads from the risk domain's clock rule
(``risk/due.py::latest_due_date``) and hands down: the call desk sits below the review
queue and the batch and does not import them."""

from __future__ import annotations

import random
from datetime import date, datetime
from typing import Final

from sqlalchemy.orm import Session

from fairslot.config import Settings
from fairslot.followup import repository as repo
from fairslot.followup import service
from fairslot.followup.schemas import SampleReport
from fairslot.staff.audit import StaffActor
from fairslot.staff.roles import Role

# Recorded as the actor of the sample's audit row, as the batch records "worker".
WORKER: Final = StaffActor(username="worker", roles=frozenset({Role.SCHEDULER}))


def sample_if_due(
    db: Session, *, day: date, now: datetime, settings: Settings, rng: random.Random
) -> SampleReport | None:
    """Sample ``day``'s confirmed bookings unless that day was sampled (by the worker or
    by ``fairslot calls sample``); None when nothing was due. ``day`` is the latest day
    whose daily batch is due (the worker's ``cli/calls_cmd.py::due_day``).

    One index read per call when nothing is due, so the worker can ask on every sweep.
    The day is claimed by a row with the day as its key (``call_sample_days``), written
    first: a second worker racing for the same day fails on it and draws nothing.
    The day is the batch's (yesterday once the run time has passed): its bookings are all
    in, so the sample is drawn once from the whole day.
    """
    if repo.sampled_days(db, among=[day.isoformat()]):
        return None
    repo.claim_sample_day(db, day=day.isoformat(), now=now)
    return service.sample(
        db,
        day=day,
        rate=settings.followup_sample_rate,
        limit=settings.followup_sample_max,
        rng=rng,
        now=now,
        tz=settings.default_timezone,
        actor=WORKER,
    )
