"""``fairslot bench push``: time one hospital's schedule push through the real import path,
in a fresh database, with the sweeper running next to it (see ``bench/push.py``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from fairslot.bench.push import PushOptions, run_push_bench
from fairslot.bench.push_world import PushShape
from fairslot.cli.common import console, err_console
from fairslot.db.scratch import DEFAULT_PG_ADMIN, DatabaseExists
from fairslot.schedules.formats import MAX_CAPACITY


def push(
    sessions: int = typer.Option(200, "--sessions", min=1, help="sessions in the document"),
    slots: int = typer.Option(
        500, "--slots", min=1, max=MAX_CAPACITY, help="slots of every session"
    ),
    doctors: int = typer.Option(20, "--doctors", min=1, help="doctors the sessions spread over"),
    late: bool = typer.Option(
        False, "--late", help="sessions already released: every slot is late supply and cools"
    ),
    db: str = typer.Option(
        "sqlite", "--db", help="sqlite | postgresql: a fresh database made and dropped by the run"
    ),
    pg_admin_url: str = typer.Option(
        DEFAULT_PG_ADMIN, "--pg-admin-url", help="where --db postgresql creates its database"
    ),
    probe: bool = typer.Option(
        True, "--probe/--no-probe", help="run the sweeper next to the push and time its waits"
    ),
    probe_interval: float = typer.Option(
        0.2, "--probe-interval", min=0.01, help="seconds between the probe's sweeps"
    ),
    json_file: Path | None = typer.Option(None, "--json", help="write the figures here"),
) -> None:
    """Push SESSIONS x SLOTS slots in one transaction, then the same document again; exit 1
    if the rows written are not what the document asks for."""
    backend = db.lower()
    if backend not in ("sqlite", "postgresql"):
        err_console.print("[bold red]invalid_backend[/]: --db is sqlite or postgresql")
        raise typer.Exit(2)
    options = PushOptions(
        backend=backend,
        shape=PushShape(sessions=sessions, slots=slots, doctors=doctors, late=late),
        pg_admin_url=pg_admin_url,
        probe_interval_s=probe_interval if probe else None,
    )
    try:
        with console.status(f"bench push ({backend})") as status:
            result = run_push_bench(options, progress=status.update)
    except DatabaseExists as exc:
        err_console.print(f"[bold red]database_exists[/]: {exc}")
        raise typer.Exit(1) from exc
    _print(result)
    if json_file is not None:
        json_file.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
        console.print(f"wrote {json_file}")
    for problem in result["problems"]:
        err_console.print(f"[bold red]push_wrong[/]: {problem}")
    if result["problems"]:
        raise typer.Exit(1)


def _print(result: dict[str, Any]) -> None:
    console.print(
        f"[bold]{result['backend']}: {result['sessions']} sessions x "
        f"{result['slots_per_session']} slots = {result['slots']:,} slots[/] "
        f"(load average {' '.join(str(n) for n in result['load_average'])})"
    )
    for name in ("push", "repush"):
        row = result[name]
        console.print(
            f"  {name:<7} wall {row['wall_s']:8.3f} s (import {row['import_s']:.3f}, commit "
            f"{row['commit_s']:.3f})  cpu {row['cpu_s']:8.3f} s  statements {row['statements']:,}"
        )
    rows = result["written"]
    console.print(
        f"  written: {rows['sessions']:,} sessions, {rows['slots']:,} slots "
        f"({rows['reserved_slots']:,} reserved), {rows['events']:,} ledger rows"
    )
    probe = result["probe"]
    if probe is not None:
        console.print(
            f"  sweeper: {probe['during_push']} sweep(s) during the push, longest "
            f"{probe['during_push_max_s']} s, {probe['failed']} failed "
            f"(alone: {probe['baseline_median_s']} s)"
        )
    console.print_json(json.dumps(result))
