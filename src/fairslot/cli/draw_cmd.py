"""``fairslot draw``: run due release draws and verify a draw from its published inputs."""

from __future__ import annotations

import json

import typer

from fairslot.allocation import service as allocation
from fairslot.allocation.verification import verify as verify_draw
from fairslot.cli.common import command_transaction, console, make_platform
from fairslot.cli.worker_cmd import draws_once

app = typer.Typer(help="Release draws: run the due ones, verify any.", no_args_is_help=True)


@app.command("verify")
def verify(
    draw_id: int | None = typer.Argument(None, help="the draw's id"),
    session: int | None = typer.Option(
        None, "--session", help="or: a session id (its department-day's draw)"
    ),
    as_json: bool = typer.Option(False, "--json", help="print the whole verification"),
) -> None:
    """Re-run a draw from its revealed seed and inputs; exit 1 unless it matches."""
    if (draw_id is None) == (session is None):
        raise typer.BadParameter("give a draw id or --session SESSION_ID, not both")
    platform = make_platform()
    with command_transaction(platform) as db:
        if session is not None:
            draw_id = allocation.draw_of_session(db, session_id=session).id
        assert draw_id is not None
        check = verify_draw(db, draw_id=draw_id)
        draw = check.draw
        if as_json:
            console.print_json(
                json.dumps(
                    {
                        "draw_id": draw.id,
                        "status": draw.status.value,
                        "seed_commitment": draw.seed_commitment,
                        "seed": draw.seed,
                        "inputs_digest": draw.inputs_digest,
                        "intents": check.intents,
                        "recomputed": check.recomputed,
                        "verified": check.verified,
                    }
                )
            )
        else:
            console.print(f"draw {draw.id}: {draw.status.value}, {check.intents} intents")
            console.print(f"commitment: {draw.seed_commitment}")
            if check.verified is None:
                console.print("not drawn yet: the seed is revealed at the draw")
            else:
                console.print(f"seed:       {draw.seed}")
                console.print(f"inputs:     {draw.inputs_digest}")
                won = sum(1 for slot in (check.recomputed or {}).values() if slot)
                console.print(f"recomputed: {won} winners")
                console.print("verified" if check.verified else "[bold red]NOT verified[/]")
    if check.verified is False:
        raise typer.Exit(1)


@app.command("run")
def run() -> None:
    """Open the draws whose window began and run the due ones now (the worker does this)."""
    report = draws_once(make_platform())
    console.print(f"draws opened: {report.opened}, draws run: {report.drawn}")
