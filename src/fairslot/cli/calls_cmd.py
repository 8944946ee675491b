"""``fairslot calls``: the daily random sample of confirmed bookings for follow-up calls."""

from __future__ import annotations

import logging
from datetime import date, datetime

import typer

from fairslot.bootstrap import Platform
from fairslot.cli.common import (
    command_transaction,
    console,
    daily_job_once,
    local_day,
    make_platform,
)
from fairslot.followup import daily, service
from fairslot.followup.schemas import SampleReport
from fairslot.risk.due import latest_due_date
from fairslot.risk.settings import hospital_zone, run_local_time
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


def due_day(platform: Platform, now: datetime) -> date:
    """The latest day whose daily batch is due: the day the follow-up sample is drawn from."""
    settings = platform.settings
    return latest_due_date(now=now, zone=hospital_zone(settings), run_at=run_local_time(settings))


def daily_sample_once(platform: Platform) -> SampleReport | None:
    """The worker's daily follow-up sample, after the daily batch, once
    (``common.daily_job_once``)."""
    report = daily_job_once(
        platform,
        name="follow-up sample",
        job=lambda db, now: daily.sample_if_due(
            db, day=due_day(platform, now), now=now, settings=platform.settings, rng=platform.rng
        ),
    )
    if report is not None:
        log.info(
            "follow-up sample %s: %d confirmed bookings, %d call tasks created",
            report.day,
            report.confirmed,
            len(report.created),
        )
    return report
