"""``fairslot risk bench``: build a synthetic city week in a fresh database and time the
daily batch over it, phase by phase (issue 4: "7 days of 1 million bookings")."""

from __future__ import annotations

import time
from collections import Counter
from datetime import UTC, datetime

import typer
from rich.table import Table

from fairslot.bench.riskweek import repository as store
from fairslot.bench.riskweek.data import Fmt, Shape, write_slots
from fairslot.bench.riskweek.evaluation import Verdict, judge
from fairslot.bench.riskweek.week import generate_week
from fairslot.bootstrap import bootstrap
from fairslot.cli.common import console, err_console
from fairslot.cli.risk_output import print_report
from fairslot.clock import ManualClock
from fairslot.config import load_settings
from fairslot.db import migrate
from fairslot.db.engine import unit_of_work
from fairslot.db.scratch import DatabaseExists
from fairslot.risk.daily import run_configured


def bench(
    bookings: int = typer.Option(1_000_000, "--bookings", min=100, help="bookings in the window"),
    days: int = typer.Option(7, "--days", min=1, max=30, help="the window's days"),
    database_url: str = typer.Option(
        ..., "--database-url", help="a database to create (PostgreSQL) or a new SQLite file"
    ),
    keep: bool = typer.Option(False, "--keep", help="keep the database afterwards"),
    seed: int = typer.Option(20261122, "--seed", help="the generator's seed"),
    requests: bool = typer.Option(
        True,
        "--requests/--no-requests",
        help="write the gate's request records (without: the same bookings, no grab software)",
    ),
) -> None:
    """Generate a week of bookings with planted scalpers, then time the batch over it."""
    shape = Shape(bookings=bookings, days=days, seed=seed)
    settings = load_settings(database_url=database_url)
    try:
        with store.fresh_database(database_url, keep=keep):
            platform = bootstrap(
                settings, clock=ManualClock(datetime.fromtimestamp(shape.run_epoch, UTC))
            )
            try:
                migrate.upgrade(platform.engine)
                started = time.perf_counter()
                postgres = store.is_postgres(database_url)
                sink = store.CopySink() if postgres else store.ManySink()
                fmt = Fmt.postgres() if postgres else Fmt.sqlite()
                week = generate_week(
                    shape, sink=sink, fmt=fmt, protector=platform.protector, requests=requests
                )
                planted, simulated = week.planted, week.simulated
                write_slots(week.supply, sink=sink, fmt=fmt)
                counts = dict(sink.counts)
                generated = time.perf_counter() - started
                sink.load(platform.engine)
                loaded = time.perf_counter() - started - generated
                _print_data(counts, simulated.statuses, generated, loaded, simulated.refused)
                _print_requests(week.requests.counts if week.requests else Counter())

                with unit_of_work(platform.sessions) as db:
                    report = run_configured(
                        db,
                        day=shape.report_day,
                        now=platform.clock.now(),
                        settings=settings,
                        actor="cli:risk bench",
                        protector=platform.protector,
                        window_days=days,
                    )
                print_report(report)
                with unit_of_work(platform.sessions) as db:
                    verdict = judge(
                        planted,
                        store.alerts_of(db, run_date=shape.report_day),
                        families=week.population.people.shared_phone_families,
                    )
                _print_verdict(verdict)
                console.print(
                    f"[bold]batch over {report.bookings:,} bookings in {days} days: "
                    f"{report.total_seconds:.1f} s[/]"
                )
            finally:
                platform.engine.dispose()
    except DatabaseExists as exc:
        err_console.print(f"[bold red]database_exists[/]: {exc}")
        raise typer.Exit(1) from exc


def _print_data(
    counts: dict[str, int], statuses: object, generated: float, loaded: float, refused: int
) -> None:
    table = Table(title="synthetic week")
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, rows in counts.items():
        table.add_row(name, f"{rows:,}")
    console.print(table)
    console.print(f"booking statuses: {statuses}; requests without a slot: {refused:,}")
    console.print(f"generated in {generated:.1f} s, loaded in {loaded:.1f} s")


def _print_requests(counts: Counter[str]) -> None:
    """The gate's request records by action, outcome and (when flagged) decision."""
    console.print(
        "request records: " + ", ".join(f"{kind} {n:,}" for kind, n in sorted(counts.items()))
    )


def _print_verdict(verdict: Verdict) -> None:
    table = Table(title="planted scalpers")
    table.add_column("pattern")
    table.add_column("planted", justify="right")
    table.add_column("caught", justify="right")
    for pattern, (planted, caught) in verdict.patterns.items():
        table.add_row(pattern, str(planted), str(caught))
    console.print(table)
    console.print(
        f"families sharing one phone: {verdict.families:,}, flagged: {verdict.families_flagged}"
        f" (with a gate review on an account: {verdict.families_gate_reviewed:,}); "
        f"alerts on the rest of the population: {dict(verdict.other_alerts)}"
    )
