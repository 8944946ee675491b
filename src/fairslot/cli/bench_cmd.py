"""``fairslot bench release`` and ``fairslot bench matrix``: the release-burst benchmark
(see ``fairslot/bench``); the tables are in ``cli/bench_tables.py``. ``fairslot bench
push`` (a schedule push) is in ``cli/push_bench_cmd.py``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from fairslot.bench.release import MAX_CLIENTS, BenchOptions, BenchRun, run_release_bench
from fairslot.cli import push_bench_cmd
from fairslot.cli.bench_tables import print_matrix, print_run
from fairslot.cli.common import console, err_console
from fairslot.db.scratch import DEFAULT_PG_ADMIN

app = typer.Typer(help="Measure the platform under release-time load.", no_args_is_help=True)
app.command("push")(push_bench_cmd.push)

_CLIENTS = typer.Option(
    256, "--clients", min=1, max=MAX_CLIENTS, help="connections (wrk threads, one each)"
)
_DB = typer.Option(
    "postgresql", "--db", help="sqlite | postgresql: a fresh database made and dropped by the run"
)
_PG_ADMIN = typer.Option(
    DEFAULT_PG_ADMIN, "--pg-admin-url", help="where --db postgresql creates its database"
)
_DURATION = typer.Option(10.0, "--duration", min=1.0, help="seconds of the release mix")
_PHASE = typer.Option(5.0, "--phase-seconds", min=1.0, help="seconds of every other phase")
_IDENTITIES = typer.Option(
    None, "--identities", min=1, help="people with bound accounts (default max(2000, 2K))"
)
_ANCHOR_SLOTS = typer.Option(
    6000, "--anchor-slots", min=1, help="slots of the anchor's own clinic (one claim each)"
)
_RAW = typer.Option(5.0, "--raw-seconds", min=0.2, help="seconds of the raw claim limit")
_SEED = typer.Option(2026, "--seed")


@app.command("release")
def release(
    clients: int = _CLIENTS,
    workers: int = typer.Option(2, "--workers", min=1, help="uvicorn worker processes"),
    db: str = _DB,
    database_url: str | None = typer.Option(
        None, "--database-url", help="use this (migratable) database instead of a fresh one"
    ),
    pg_admin_url: str = _PG_ADMIN,
    redis: str | None = typer.Option(None, "--redis", help="Redis URL for the rate-limit store"),
    duration: float = _DURATION,
    phase_seconds: float = _PHASE,
    seed: int = _SEED,
    identities: int | None = _IDENTITIES,
    anchor_slots: int = _ANCHOR_SLOTS,
    raw_seconds: float = _RAW,
    json_file: Path | None = typer.Option(None, "--json", help="write the figures here"),
    profile: Path | None = typer.Option(
        None, "--profile", help="py-spy the server in each phase; stacks and tops to this folder"
    ),
) -> None:
    """The release burst, driven by wrk: the ceiling (GET /healthz), the hand-written
    anchor claim, each product endpoint, the release mix closed- and open-loop; then
    the oversold / double-booked checks from the database and the ledger."""
    backend = _backend(db, database_url)
    options = BenchOptions(
        backend=backend,
        clients=clients,
        workers=workers,
        database_url=database_url,
        pg_admin_url=pg_admin_url,
        redis_url=redis,
        duration_s=duration,
        phase_s=phase_seconds,
        seed=seed,
        identities=identities,
        anchor_slots=anchor_slots,
        raw_seconds=raw_seconds,
        profile_dir=str(profile) if profile else None,
    )
    run = _run(options)
    print_run(run)
    if json_file is not None:
        _write(json_file, run.document)
    _exit_on_failed_checks([run])


@app.command("matrix")
def matrix(
    workers: str = typer.Option("1,2,4", "--workers", help="worker counts, comma-separated"),
    redis: str | None = typer.Option(
        None, "--redis", help="also run each worker count with this Redis (rate-limit store)"
    ),
    clients: int = _CLIENTS,
    db: str = _DB,
    pg_admin_url: str = _PG_ADMIN,
    duration: float = _DURATION,
    phase_seconds: float = _PHASE,
    seed: int = _SEED,
    identities: int | None = _IDENTITIES,
    anchor_slots: int = _ANCHOR_SLOTS,
    raw_seconds: float = _RAW,
    json_file: Path | None = typer.Option(None, "--json", help="write every run's figures"),
) -> None:
    """``bench release`` for each worker count, without and (with ``--redis``) with
    Redis, each on a fresh database; one table of the throughput figures."""
    try:
        counts = [int(part) for part in workers.split(",") if part.strip()]
    except ValueError:
        err_console.print("[bold red]invalid_workers[/]: --workers is like 1,2,4")
        raise typer.Exit(2) from None
    if not counts or min(counts) < 1:
        err_console.print("[bold red]invalid_workers[/]: --workers is like 1,2,4")
        raise typer.Exit(2)
    backend = _backend(db, None)
    runs: list[BenchRun] = []
    failed: list[str] = []
    for redis_url in (None, redis) if redis else (None,):
        for count in counts:
            options = BenchOptions(
                backend=backend,
                clients=clients,
                workers=count,
                pg_admin_url=pg_admin_url,
                redis_url=redis_url,
                duration_s=duration,
                phase_s=phase_seconds,
                seed=seed,
                identities=identities,
                anchor_slots=anchor_slots,
                raw_seconds=raw_seconds,
            )
            try:
                runs.append(_run(options))
            except Exception as exc:  # one failed run must not lose the others' figures
                failed.append(f"{count} worker(s){', Redis' if redis_url else ''}: {exc}")
                err_console.print(f"[bold red]run failed[/]: {failed[-1]}")
    print_matrix(runs)
    for line in failed:
        err_console.print(f"[bold red]not measured[/]: {line}")
    if json_file is not None:
        _write(json_file, [run.document for run in runs])
    _exit_on_failed_checks(runs)
    if failed:
        raise typer.Exit(1)


def _backend(db: str, database_url: str | None) -> str:
    backend = db.lower()
    if database_url:
        backend = "sqlite" if database_url.startswith("sqlite") else "postgresql"
    if backend not in ("sqlite", "postgresql"):
        err_console.print("[bold red]invalid_backend[/]: --db is sqlite or postgresql")
        raise typer.Exit(2)
    return backend


def _run(options: BenchOptions) -> BenchRun:
    label = f"{options.backend}, {options.workers} worker(s)"
    if options.redis_url:
        label += ", Redis"
    with console.status(f"bench ({label})") as status:
        return run_release_bench(options, progress=lambda text: status.update(f"{label}: {text}"))


def _write(path: Path, document: Any) -> None:
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    console.print(f"wrote {path}")


def _exit_on_failed_checks(runs: list[BenchRun]) -> None:
    """Exit 1 if any run oversold, double-booked or answered with a server error."""
    for run in runs:
        doc = run.document
        if doc["oversold"] or doc["double_booked"] or doc["server_errors"]:
            raise typer.Exit(1)
