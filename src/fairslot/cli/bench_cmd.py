"""``fairslot bench release``: the release-burst benchmark (see ``fairslot/bench``)."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from fairslot.api.access_log import ACCESS_LINE_START
from fairslot.bench.release import (
    MAX_CLIENTS,
    BenchOptions,
    BenchRun,
    rate_limit_note,
    run_release_bench,
)
from fairslot.cli.common import console, err_console
from fairslot.db.scratch import DEFAULT_PG_ADMIN

app = typer.Typer(help="Measure the platform under release-time load.", no_args_is_help=True)


@app.command("release")
def release(
    clients: int = typer.Option(
        1000, "--clients", min=1, max=MAX_CLIENTS, help="concurrent clients (K)"
    ),
    workers: int = typer.Option(1, "--workers", min=1, help="uvicorn worker processes"),
    db: str = typer.Option(
        "sqlite", "--db", help="sqlite | postgresql: a fresh database made and dropped by the run"
    ),
    database_url: str | None = typer.Option(
        None, "--database-url", help="use this (migratable) database instead of a fresh one"
    ),
    pg_admin_url: str = typer.Option(
        DEFAULT_PG_ADMIN, "--pg-admin-url", help="where --db postgresql creates its database"
    ),
    redis: str | None = typer.Option(None, "--redis", help="Redis URL for the rate-limit store"),
    duration: float = typer.Option(20.0, "--duration", min=0.5, help="seconds of burst"),
    requests: int | None = typer.Option(
        None, "--requests", min=1, help="stop after this many requests (or the duration)"
    ),
    seed: int = typer.Option(2026, "--seed"),
    identities: int | None = typer.Option(
        None, "--identities", min=1, help="people with bound accounts (default max(2000, 2K))"
    ),
    think_ms: float = typer.Option(
        0.0, "--think-ms", min=0.0, help="pause between a client's rounds (0: none)"
    ),
    raw_seconds: float = typer.Option(5.0, "--raw-seconds", min=0.2),
    ceiling_seconds: float = typer.Option(
        5.0,
        "--ceiling-seconds",
        min=0.0,
        help="seconds of GET /healthz from the same clients: the framework's ceiling (0: skip)",
    ),
    json_file: Path | None = typer.Option(None, "--json", help="write the figures here"),
) -> None:
    """The release burst: K clients fire holds, confirms and availability polls at a few
    scarce sessions from the release instant on, through the public HTTP API; then the
    oversold / double-booked checks and the raw database limit of the same claim."""
    backend = db.lower()
    if database_url:
        backend = "sqlite" if database_url.startswith("sqlite") else "postgresql"
    if backend not in ("sqlite", "postgresql"):
        err_console.print("[bold red]invalid_backend[/]: --db is sqlite or postgresql")
        raise typer.Exit(2)
    options = BenchOptions(
        backend=backend,
        clients=clients,
        workers=workers,
        database_url=database_url,
        pg_admin_url=pg_admin_url,
        redis_url=redis,
        duration_s=duration,
        max_requests=requests,
        seed=seed,
        identities=identities,
        think_ms=think_ms,
        raw_seconds=raw_seconds,
        ceiling_seconds=ceiling_seconds,
    )
    with console.status("bench") as status:
        run = run_release_bench(options, progress=lambda text: status.update(text))
    _print(run)
    if json_file is not None:
        json_file.write_text(json.dumps(run.document, indent=2) + "\n", encoding="utf-8")
        console.print(f"wrote {json_file}")
    doc = run.document
    if doc["oversold"] or doc["double_booked"] or doc["server_errors"]:
        raise typer.Exit(1)


def _print(run: BenchRun) -> None:
    s, doc, options = run.summary, run.document, run.options
    per_endpoint = Table(
        "endpoint",
        "requests",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "max ms",
        "answers (status code: count)",
        title=f"release burst: {options.clients} clients, {s.seconds:.1f} s",
    )
    for e in s.endpoints:
        per_endpoint.add_row(
            e.endpoint,
            str(e.count),
            f"{e.p50_ms:.1f}",
            f"{e.p95_ms:.1f}",
            f"{e.p99_ms:.1f}",
            f"{e.max_ms:.1f}",
            ", ".join(f"{label}: {n}" for label, n in e.outcomes.items()),
        )
    per_endpoint.add_row(
        "all", str(s.requests), f"{s.p50_ms:.1f}", f"{s.p95_ms:.1f}", f"{s.p99_ms:.1f}", "", ""
    )
    console.print(per_endpoint)

    c = run.checks
    figures = Table("figure", "value", title="fairslot bench release")
    rows = [
        ("backend / workers", f"{doc['backend']} / {doc['workers']}"),
        (
            "identities / scarce slots",
            f"{len(run.world.identities)} / {run.world.size.scarce_slots}",
        ),
        ("rate limits", rate_limit_note(run.settings, workers=options.workers)),
        ("throughput", f"{doc['throughput_rps']} requests/s ({doc['requests']} requests)"),
        ("p50 / p99", f"{doc['p50_ms']} / {doc['p99_ms']} ms"),
        ("scarce slots taken", f"{run.scarce_taken} of {run.world.size.scarce_slots}"),
        (
            "oversold",
            f"{c.oversold} (slots {c.slots_oversold}, sessions {c.sessions_oversold})",
        ),
        (
            "double_booked",
            f"{c.double_booked} (patient-days {c.patients_double_booked}, "
            f"ledger double holders {c.ledger_double_holders})",
        ),
        ("ledger disagrees with bookings", f"{c.ledger_disagrees} slots"),
        ("server errors (5xx, no answer)", str(doc["server_errors"])),
        (
            "raw limit (the claim, bare SQL)",
            f"{doc['raw_limit_rps']} claims/s ({run.raw.processes} x "
            f"{run.raw.threads_per_process} connections, {run.raw.claims} claims, "
            f"{run.raw.won} won)",
        ),
        ("ratio to raw", str(doc["ratio_to_raw"])),
        *_ceiling_rows(run),
        ("seeding took", f"{run.seed_seconds:.1f} s"),
    ]
    for label, value in rows:
        figures.add_row(label, value)
    console.print(figures)
    lines = [
        line
        for line in run.server_log.splitlines()
        # Not the banner nor the access log's one line per request (api/access_log.py).
        if line and not line.startswith(("fairslot on", ACCESS_LINE_START))
    ]
    if lines:
        console.rule(f"the server logged {len(lines)} line(s); the last ones")
        console.print("\n".join(lines[-15:]), markup=False, highlight=False)


def _ceiling_rows(run: BenchRun) -> list[tuple[str, str]]:
    if run.ceiling is None:
        return []
    c = run.ceiling
    return [
        (
            "framework ceiling (GET /healthz)",
            f"{c.rps:.1f} requests/s (p50 {c.p50_ms:.1f} ms, p99 {c.p99_ms:.1f} ms)",
        ),
        ("ratio to ceiling", str(run.document["ratio_to_ceiling"])),
    ]
