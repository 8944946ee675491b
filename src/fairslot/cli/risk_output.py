"""What ``fairslot risk run`` and ``fairslot risk bench`` print of a batch run.

A module of its own so that both commands import it and neither imports the other (they
used to import each other: ``risk_cmd`` registered ``risk_bench_cmd``, which took this
printer from ``risk_cmd``)."""

from __future__ import annotations

from datetime import datetime, tzinfo

from rich.table import Table

from fairslot.cli.common import console
from fairslot.risk.batch import PHASES, BatchReport


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
