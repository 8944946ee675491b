"""``fairslot risk``: the daily anomaly batch (``run``), its report (``report``) and its
benchmark (``bench``).

Other ``risk`` commands (the daily report) register on :data:`app` from their own modules.
"""

from __future__ import annotations

import logging
from datetime import date

import typer

from fairslot.bootstrap import Platform
from fairslot.cli import risk_bench_cmd, risk_report_cmd
from fairslot.cli.common import (
    command_transaction,
    daily_job_once,
    local_day,
    make_platform,
)
from fairslot.cli.risk_output import print_report
from fairslot.risk import daily
from fairslot.risk.batch import BatchReport
from fairslot.risk.daily import run_configured

log = logging.getLogger("fairslot.worker")

app = typer.Typer(help="Catching scalpers: the daily anomaly batch.", no_args_is_help=True)

CLI_ACTOR = "cli:risk run"


def parse_day(text: str | None, *, platform: Platform) -> date:
    """``YYYY-MM-DD``, or yesterday in the hospital's zone."""
    return local_day(text, platform=platform, days_back=1)


@app.command("run")
def run(
    day: str | None = typer.Option(
        None, "--date", help="the report date YYYY-MM-DD (local); default: yesterday"
    ),
) -> None:
    """Run the batch for one date (idempotent: a re-run adds only new alerts)."""
    platform = make_platform()
    when = parse_day(day, platform=platform)
    with command_transaction(platform) as db:
        report = run_configured(
            db,
            day=when,
            now=platform.clock.now(),
            settings=platform.settings,
            actor=CLI_ACTOR,
            protector=platform.protector,
        )
    print_report(report)


def daily_batch_once(platform: Platform) -> BatchReport | None:
    """The worker's daily run: the latest due date's batch, once (``common.daily_job_once``)."""
    report = daily_job_once(
        platform,
        name="risk batch",
        job=lambda db, now: daily.run_if_due(
            db, now=now, settings=platform.settings, protector=platform.protector
        ),
    )
    if report is not None:
        log.info(
            "risk run %s: %d new alerts, %d cases opened, %d updated, %.1f s",
            report.run.run_date,
            report.new_alerts,
            report.cases_opened,
            report.cases_updated,
            report.total_seconds,
        )
    return report


app.command("bench")(risk_bench_cmd.bench)
app.command("report")(risk_report_cmd.report)
