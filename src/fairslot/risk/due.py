"""When the daily anomaly batch is due. Pure: no I/O.

The report for a local date D covers D's local day (and the days before it), so it can run
once D is over. The worker runs it after ``risk_run_local_time`` on D + 1 (01:00 by
default: after midnight, away from the 00:30 release rush), and only if no run of D exists.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime, time, timedelta, tzinfo


def parse_local_time(text: str) -> time:
    """``"HH:MM"`` (24-hour) as a time; raises ValueError with a sentence a person can act on."""
    try:
        hours, minutes = (int(part) for part in text.strip().split(":"))
        return time(hours, minutes)
    except ValueError as exc:
        raise ValueError(
            f"risk_run_local_time must be HH:MM on a 24-hour clock (e.g. 01:00), got {text!r}"
        ) from exc


def latest_due_date(*, now: datetime, zone: tzinfo, run_at: time) -> date:
    """The latest local date whose batch is due at ``now``.

    Yesterday once today's ``run_at`` has passed, else the day before yesterday: a worker
    that was down over the run time still runs the batch it missed when it comes back.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError(f"now must be timezone-aware, got {now!r}")
    local = now.astimezone(zone)
    yesterday = local.date() - timedelta(days=1)
    return yesterday if local.time() >= run_at else yesterday - timedelta(days=1)


def is_due(
    *, now: datetime, zone: tzinfo, run_at: time, already_run: Collection[date]
) -> date | None:
    """The date to run now, or None: the latest due date, unless it has already run."""
    day = latest_due_date(now=now, zone=zone, run_at=run_at)
    return None if day in already_run else day
