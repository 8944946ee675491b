"""``fairslot calls``: the daily random sample of confirmed bookings for follow-up calls."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import typer

from fairslot.bootstrap import Platform
from fairslot.cli.common import command_transaction, console, local_day, make_platform
from fairslot.db.engine import unit_of_work
from fairslot.followup import daily, service
from fairslot.followup.schemas import SampleReport
from fairslot.staff.audit import cli_actor

app = typer.Typer(help="Follow-up calls by customer service.", no_args_is_help=True)
log = logging.getLogger("fairslot.worker")


@app.command("sample")
def sample(
    day: str | None = typer.Option(
        None,
        "--date",
        help="the local day (YYYY-MM-DD) whose confirmed bookings to sample; "
        "default: today in the hospital's zone",
    ),
    rate: float | None = typer.Option(
        None, "--rate", help="default: FAIRSLOT_FOLLOWUP_SAMPLE_RATE"
    ),
    limit: int | None = typer.Option(None, "--max", help="default: FAIRSLOT_FOLLOWUP_SAMPLE_MAX"),
    by: str = typer.Option("scheduler", "--by", help="who runs it (audited)"),
) -> None:
    """Create call tasks for a random sample of the day's confirmed bookings (idempotent)."""
    platform = make_platform()
    settings = platform.settings
    now = platform.clock.now()
    with command_transaction(platform) as db:
        report = service.sample(
            db,
            day=local_day(day, platform=platform),
            rate=settings.followup_sample_rate if rate is None else rate,
            limit=settings.followup_sample_max if limit is None else limit,
            rng=platform.rng,
            now=now,
            tz=settings.default_timezone,
            actor=cli_actor(by),
        )
    console.print(
        f"{report.day}: {report.confirmed} confirmed bookings, {report.already_sampled} "
        f"sampled before, {len(report.created)} call tasks created"
    )


# After a failed daily sample, the worker tries again this much later (not every sweep).
RETRY_AFTER = timedelta(minutes=10)
_RETRY_KEY = "followup_sample_retry_at"


def daily_sample_once(platform: Platform) -> SampleReport | None:
    """The worker's daily follow-up sample (``cli/worker_cmd.py::sweep_once``, after the
    daily batch), in its own transaction: a failure is logged and retried ``RETRY_AFTER``
    later, and never stops the batch or the sweep around it."""
    now = platform.clock.now()
    retry_at = platform.extras.get(_RETRY_KEY)
    if isinstance(retry_at, datetime) and now < retry_at:
        return None
    try:
        with unit_of_work(platform.sessions) as db:
            report = daily.sample_if_due(db, now=now, settings=platform.settings, rng=platform.rng)
    except Exception:
        platform.extras[_RETRY_KEY] = now + RETRY_AFTER
        log.exception("follow-up sample failed; trying again in %s", RETRY_AFTER)
        return None
    platform.extras.pop(_RETRY_KEY, None)
    if report is not None:
        log.info(
            "follow-up sample %s: %d confirmed bookings, %d call tasks created",
            report.day,
            report.confirmed,
            len(report.created),
        )
    return report
