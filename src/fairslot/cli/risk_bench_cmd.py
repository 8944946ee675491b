"""``fairslot risk bench``: build a synthetic city week in a fresh database and time the
daily batch over it, phase by phase (issue 4: "7 days of 1 million bookings")."""

from __future__ import annotations

import time
from collections import Counter
from datetime import UTC, datetime

import typer
from rich.table import Table

from fairslot.bench.riskweek import kept
from fairslot.bench.riskweek import repository as store
from fairslot.bench.riskweek.data import Fmt, Shape, write_slots
from fairslot.bench.riskweek.evaluation import Verdict, judge
from fairslot.bench.riskweek.week import generate_week
from fairslot.bootstrap import Platform, bootstrap
from fairslot.cli.common import console, err_console
from fairslot.cli.risk_output import print_report
from fairslot.clock import ManualClock
from fairslot.config import Settings, load_settings
from fairslot.db import migrate
from fairslot.db.engine import make_engine
from fairslot.db.scratch import DatabaseExists
from fairslot.risk.daily import run_configured


def bench(
    bookings: int = typer.Option(1_000_000, "--bookings", min=100, help="bookings in the window"),
    days: int = typer.Option(7, "--days", min=1, max=30, help="the window's days"),
    database_url: str = typer.Option(
        ..., "--database-url", help="a database to create (PostgreSQL) or a new SQLite file"
    ),
    keep: bool = typer.Option(
        False, "--keep", help="keep the week afterwards (with its answer key, for --reuse)"
    ),
    reuse: bool = typer.Option(
        False,
        "--reuse",
        help="time the batch again over a week kept with --keep (its shape, not the options')",
    ),
    seed: int = typer.Option(20261122, "--seed", help="the generator's seed"),
    requests: bool = typer.Option(
        True,
        "--requests/--no-requests",
        help="write the gate's request records (without: the same bookings, no grab software)",
    ),
) -> None:
    """Generate a week of bookings with planted scalpers, then time the batch over it.

    The batch runs in one transaction that is rolled back once its alerts are judged, so a
    kept week stays a week the batch has not run over: ``--reuse`` times it again."""
    settings = load_settings(database_url=database_url)
    try:
        if reuse:
            store.require_kept_file(database_url)
            _measure_kept(settings)
            return
        shape = Shape(bookings=bookings, days=days, seed=seed)
        with store.fresh_database(database_url, keep=keep):
            platform = _platform(settings, shape)
            try:
                answers = _generate(platform, shape, requests=requests)
                if keep:
                    store.keep_answers(platform.engine, kept.dumps(answers))
                _measure(platform, settings, answers)
            finally:
                platform.engine.dispose()
    except DatabaseExists as exc:
        err_console.print(f"[bold red]database_exists[/]: {exc}")
        raise typer.Exit(1) from exc
    except store.NotAKeptWeek as exc:
        err_console.print(f"[bold red]not_a_kept_week[/]: {exc}")
        raise typer.Exit(1) from exc


def _platform(settings: Settings, shape: Shape) -> Platform:
    platform = bootstrap(settings, clock=ManualClock(datetime.fromtimestamp(shape.run_epoch, UTC)))
    migrate.upgrade(platform.engine)
    return platform


def _generate(platform: Platform, shape: Shape, *, requests: bool) -> kept.Answers:
    """Write the synthetic week into the database; what was planted in it."""
    started = time.perf_counter()
    postgres = store.is_postgres(str(platform.settings.database_url))
    sink = store.CopySink() if postgres else store.ManySink()
    fmt = Fmt.postgres() if postgres else Fmt.sqlite()
    week = generate_week(shape, sink=sink, fmt=fmt, protector=platform.protector, requests=requests)
    write_slots(week.supply, sink=sink, fmt=fmt)
    counts = dict(sink.counts)
    generated = time.perf_counter() - started
    sink.load(platform.engine)
    loaded = time.perf_counter() - started - generated
    simulated = week.simulated
    _print_data(counts, simulated.statuses, generated, loaded, simulated.refused)
    _print_requests(week.requests.counts if week.requests else Counter())
    return kept.answers_of(shape, week.planted, week.population.people.shared_phone_families)


def _measure_kept(settings: Settings) -> None:
    engine = make_engine(settings)
    try:
        answers = kept.loads(store.kept_answers(engine))
    except ValueError as exc:  # a key of another format
        raise store.NotAKeptWeek(str(exc)) from exc
    finally:
        engine.dispose()
    shape = answers.shape
    console.print(
        f"kept week: {shape.bookings:,} bookings in {shape.days} days, seed {shape.seed}, "
        f"{len(answers.planted)} planted, {len(answers.families):,} families"
    )
    platform = _platform(settings, shape)
    try:
        _measure(platform, settings, answers)
    finally:
        platform.engine.dispose()


def _measure(platform: Platform, settings: Settings, answers: kept.Answers) -> None:
    """Time the batch over the week, judge its alerts, then roll it all back."""
    shape = answers.shape
    db = platform.sessions()
    try:
        report = run_configured(
            db,
            day=shape.report_day,
            now=platform.clock.now(),
            settings=settings,
            actor="cli:risk bench",
            protector=platform.protector,
            window_days=shape.days,
        )
        print_report(report)
        alerts = store.alerts_of(db, run_date=shape.report_day)
        verdict = judge(answers.planted, alerts, families=answers.families)
    finally:
        db.rollback()
        db.close()
    _print_verdict(verdict)
    console.print(
        f"[bold]batch over {report.bookings:,} bookings in {shape.days} days: "
        f"{report.total_seconds:.1f} s[/]"
    )


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
