"""The daily batch run with the platform's settings: by the worker (yesterday's, once,
after ``risk_run_local_time``), the command line, the demo and the batch benchmark."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from typing import Final

from sqlalchemy.orm import Session

from fairslot.config import Settings
from fairslot.crypto import Protector
from fairslot.risk import repository as repo
from fairslot.risk.batch import BatchReport, run_batch
from fairslot.risk.due import is_due, latest_due_date
from fairslot.risk.settings import hospital_zone, ring_settings, risk_settings, run_local_time

WORKER_ACTOR: Final = "worker"


def run_if_due(
    db: Session, *, now: datetime, settings: Settings, protector: Protector
) -> BatchReport | None:
    """Run the latest due date's batch unless it has run; None when nothing was due.

    One row read per call when nothing is due, so the worker can ask on every sweep.
    """
    zone, run_at = hospital_zone(settings), run_local_time(settings)
    latest = latest_due_date(now=now, zone=zone, run_at=run_at)
    day = is_due(now=now, zone=zone, run_at=run_at, already_run=repo.run_dates(db, among=[latest]))
    if day is None:
        return None
    return run_configured(
        db, day=day, now=now, settings=settings, actor=WORKER_ACTOR, protector=protector
    )


def run_configured(
    db: Session,
    *,
    day: date,
    now: datetime,
    settings: Settings,
    actor: str,
    protector: Protector,
    window_days: int | None = None,
) -> BatchReport:
    """The batch for ``day`` with every threshold, the ring settings and the zone read
    from ``settings`` (``FAIRSLOT_RISK_*``); ``window_days`` overrides the window."""
    rules = risk_settings(settings)
    if window_days is not None:
        rules = replace(rules, window_days=window_days)
    return run_batch(
        db,
        day=day,
        now=now,
        settings=rules,
        ring_settings=ring_settings(settings),
        actor=actor,
        protector=protector,
        zone=hospital_zone(settings),
    )
