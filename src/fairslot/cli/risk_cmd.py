"""``fairslot risk``: the daily anomaly batch (``run``), its report (``report``) and its
benchmark (``bench``).

Other ``risk`` commands (the daily report) register on :data:`app` from their own modules.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, tzinfo

import typer
from rich.table import Table

from fairslot.bootstrap import Platform
from fairslot.cli.common import (
    command_transaction,
    console,
    daily_job_once,
    local_day,
    make_platform,
)
from fairslot.risk import daily
from fairslot.risk.batch import PHASES, BatchReport
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


def print_report(report: BatchReport) -> None:
    run = report.run
    zone = report.window.zone
    console.print(
        f"risk run {run.run_date.isoformat()} (run {run.runs} of this date): window "
        f"{_local(report.window.start, zone)} – {_local(report.window.end, zone)}"
    )
    console.print(
        f"read {report.bookings:,} bookings, {report.events:,} ledger events, "
        f"{report.bindings:,} bindings, {report.requests:,} requests "
        f"({report.request_groups:,} patient-identifier sets)"
    )
    hits = Table(title="hits by rule")
    hits.add_column("rule")
    hits.add_column("hits", justify="right")
    hits.add_column("new alerts", justify="right")
    for rule in sorted(report.hits_by_rule):
        hits.add_row(rule, str(report.hits_by_rule[rule]), str(report.new_by_rule[rule]))
    hits.add_row(
        "total", str(sum(report.hits_by_rule.values())), str(report.new_alerts), style="bold"
    )
    console.print(hits)
    console.print(
        f"rings: {report.rings_found:,} groups, {report.ring_candidates:,} scored, "
        f"{report.rings_flagged:,} flagged; "
        f"cases: {report.cases_opened:,} opened, {report.cases_updated:,} updated, "
        f"{report.already_reviewed:,} alert(s) on evidence already reviewed"
    )
    console.print(timing_table(report))


def timing_table(report: BatchReport) -> Table:
    table = Table(title="timing")
    table.add_column("phase")
    table.add_column("seconds", justify="right")
    table.add_column("cpu seconds", justify="right")
    for phase in PHASES:
        table.add_row(
            phase, f"{report.seconds.get(phase, 0.0):.2f}", f"{report.cpu.get(phase, 0.0):.2f}"
        )
    table.add_row(
        "total", f"{report.total_seconds:.2f}", f"{sum(report.cpu.values()):.2f}", style="bold"
    )
    return table


def _local(at: datetime, zone: tzinfo) -> str:
    return at.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")


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


# Commands defined in their own modules (imported last: they use this module's helpers).
from fairslot.cli import risk_bench_cmd, risk_report_cmd  # noqa: E402

app.command("bench")(risk_bench_cmd.bench)
app.command("report")(risk_report_cmd.report)
