"""``fairslot risk bench``: build a synthetic city week in a fresh database and time the
daily batch over it, phase by phase (issue 4: "7 days of 1 million bookings")."""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime

import typer
from rich.table import Table

from fairslot.bootstrap import bootstrap
from fairslot.cli.common import console, err_console
from fairslot.cli.risk_cmd import print_report
from fairslot.clock import ManualClock
from fairslot.config import load_settings
from fairslot.db import migrate
from fairslot.db.engine import unit_of_work
from fairslot.db.scratch import DatabaseExists
from fairslot.risk import bench_repository as store
from fairslot.risk.bench_people import Population, build_households, department_demand
from fairslot.risk.bench_scalpers import plant_all
from fairslot.risk.bench_simulation import Simulation
from fairslot.risk.benchdata import (
    Fmt,
    Ledger,
    Shape,
    build_supply,
    schedule,
    write_slots,
)
from fairslot.risk.daily import run_configured
from fairslot.risk.evaluation import Verdict, judge


def bench(
    bookings: int = typer.Option(1_000_000, "--bookings", min=100, help="bookings in the window"),
    days: int = typer.Option(7, "--days", min=1, max=30, help="the window's days"),
    database_url: str = typer.Option(
        ..., "--database-url", help="a database to create (PostgreSQL) or a new SQLite file"
    ),
    keep: bool = typer.Option(False, "--keep", help="keep the database afterwards"),
    seed: int = typer.Option(20261122, "--seed", help="the generator's seed"),
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
                rng = random.Random(seed)
                ledger = Ledger(sink, fmt)
                supply = build_supply(shape, sink=sink, fmt=fmt)
                population = Population(
                    shape, sink=sink, fmt=fmt, rng=rng, protector=platform.protector
                )
                build_households(population, supply)
                schedule(
                    shape,
                    supply=supply,
                    demand=department_demand(population.people),
                    sink=sink,
                    fmt=fmt,
                    ledger=ledger,
                    rng=rng,
                )
                sim = Simulation(
                    shape,
                    supply=supply,
                    people=population.people,
                    sink=sink,
                    fmt=fmt,
                    ledger=ledger,
                    rng=rng,
                )
                planted = plant_all(sim, population, supply, shape, rng)
                simulated = sim.run(bookings - sum(p.bookings for p in planted))
                write_slots(supply, sink=sink, fmt=fmt)
                counts = dict(sink.counts)
                generated = time.perf_counter() - started
                sink.load(platform.engine)
                loaded = time.perf_counter() - started - generated
                _print_data(counts, simulated.statuses, generated, loaded, simulated.refused)

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
                        families=population.people.shared_phone_families,
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


def _print_verdict(verdict: Verdict) -> None:
    table = Table(title="planted scalpers")
    table.add_column("pattern")
    table.add_column("planted", justify="right")
    table.add_column("caught", justify="right")
    for pattern, (planted, caught) in verdict.patterns.items():
        table.add_row(pattern, str(planted), str(caught))
    console.print(table)
    console.print(
        f"families sharing one phone: {verdict.families:,}, flagged: {verdict.families_flagged}; "
        f"alerts on the rest of the population: {dict(verdict.other_alerts)}"
    )
