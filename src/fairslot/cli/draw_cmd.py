"""``fairslot draw``: run due release draws and verify a draw from its published inputs."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import typer
from pydantic import ValidationError

from fairslot.allocation import rules
from fairslot.allocation import service as allocation
from fairslot.allocation.schemas import DrawView
from fairslot.allocation.states import DrawStatus
from fairslot.allocation.verification import verify as verify_draw
from fairslot.cli.common import command_transaction, console, err_console, make_platform
from fairslot.cli.worker_cmd import draws_once

app = typer.Typer(help="Release draws: run the due ones, verify any.", no_args_is_help=True)


@app.command("verify")
def verify(
    draw_id: int | None = typer.Argument(None, help="the draw's id"),
    session: int | None = typer.Option(
        None, "--session", help="or: a session id (its department-day's draw)"
    ),
    from_json: Path | None = typer.Option(
        None,
        "--from-json",
        exists=True,
        dir_okay=False,
        readable=True,
        help="verify the published draw in FILE (the body of GET /v1/draws/{id}) "
        "without the platform's database",
    ),
    as_json: bool = typer.Option(False, "--json", help="print the whole verification"),
) -> None:
    """Re-run a draw from its revealed seed and inputs; exit 1 unless it matches."""
    if from_json is not None:
        if session is not None:
            raise typer.BadParameter("--from-json checks the file's draw; drop --session")
        _verify_published(from_json, draw_id=draw_id, as_json=as_json)
        return
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
                        "algorithm": draw.algorithm,
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
                console.print(f"algorithm:  {draw.algorithm}")
                console.print(f"seed:       {draw.seed}")
                console.print(f"inputs:     {draw.inputs_digest}")
                won = sum(1 for slot in (check.recomputed or {}).values() if slot)
                console.print(f"recomputed: {won} winners")
                console.print("verified" if check.verified else "[bold red]NOT verified[/]")
    if check.verified is False:
        raise typer.Exit(1)


def _verify_published(path: Path, *, draw_id: int | None, as_json: bool) -> None:
    """Check a published draw from the file alone: the platform's own ``recomputed`` and
    ``verified`` in it are ignored, everything is re-run here."""
    try:
        view = DrawView.model_validate_json(path.read_bytes())
    except ValidationError as exc:
        err_console.print(f"[bold red]not a published draw[/]: {path}\n{exc}")
        raise typer.Exit(1) from exc
    if draw_id is not None and draw_id != view.id:
        err_console.print(f"[bold red]the file is draw {view.id}, not draw {draw_id}[/]")
        raise typer.Exit(1)
    if view.status != DrawStatus.DRAWN or view.seed is None or view.inputs_digest is None:
        console.print(f"draw {view.id}: {view.status.value}; the seed is revealed at the draw")
        return
    found = rules.recheck(rules.published(view.model_dump(mode="json")))
    if as_json:
        console.print_json(
            json.dumps(
                {
                    "draw_id": view.id,
                    "algorithm": view.algorithm,
                    "seed_matches_commitment": found.seed_matches_commitment,
                    "inputs_match_digest": found.inputs_match_digest,
                    "assignment_reproduced": found.assignment_reproduced,
                    "exclusions_explained": found.exclusions_explained,
                    "problem": found.problem,
                    "recomputed": found.recomputed,
                    "verified": found.verified,
                }
            )
        )
    else:
        entries = len(view.entries or [])
        console.print(f"draw {view.id} from {path.name}: {entries} entries, {view.algorithm}")
        console.print(f"seed matches its commitment: {_yes(found.seed_matches_commitment)}")
        console.print(f"entries match the digest:    {_yes(found.inputs_match_digest)}")
        console.print(f"assignment reproduced:       {_yes(found.assignment_reproduced)}")
        console.print(f"exclusions have reasons:     {_explained(found.exclusions_explained)}")
        skipped = Counter((view.reasons or {}).values())
        if skipped:
            shown = ", ".join(f"{code} {n}" for code, n in sorted(skipped.items()))
            console.print(
                f"refused {len(view.refused or [])}, held out {len(view.held_out or [])}: {shown}"
            )
        if found.problem:
            console.print(f"cannot re-run: {found.problem}")
        console.print("verified" if found.verified else "[bold red]NOT verified[/]")
    if not found.verified:
        raise typer.Exit(1)


def _yes(ok: bool) -> str:
    return "yes" if ok else "[bold red]NO[/]"


def _explained(ok: bool | None) -> str:
    return "not published (older record)" if ok is None else _yes(ok)


@app.command("run")
def run() -> None:
    """Open the draws whose window began and run the due ones now (the worker does this)."""
    report = draws_once(make_platform())
    console.print(f"draws opened: {report.opened}, draws run: {report.drawn}")
