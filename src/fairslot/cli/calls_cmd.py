"""``fairslot calls``: the daily random sample of confirmed bookings for follow-up calls."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import typer

from fairslot.cli.common import command_transaction, console, make_platform
from fairslot.followup import service
from fairslot.staff.audit import cli_actor

app = typer.Typer(help="Follow-up calls by customer service.", no_args_is_help=True)


def _day(raw: str | None, tz: str, now: datetime) -> date:
    if raw is None:
        return now.astimezone(ZoneInfo(tz)).date()
    try:
        return date.fromisoformat(raw)
    except ValueError as exc:
        raise typer.BadParameter(f"{raw!r} is not a date (YYYY-MM-DD)") from exc


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
            day=_day(day, settings.default_timezone, now),
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
