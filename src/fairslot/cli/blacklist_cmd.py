"""``fairslot blacklist``: IT staff block identifiers and record in-person appeals."""

from __future__ import annotations

import typer
from rich.table import Table

from fairslot.blacklist import repository as repo
from fairslot.blacklist import service
from fairslot.blacklist.models import Scope
from fairslot.cli.common import command_transaction, console, make_platform
from fairslot.sanctions import service as sanctions
from fairslot.staff.audit import cli_actor

app = typer.Typer(help="Blocked identifiers (a blocked one can no longer book).")


@app.command("add")
def add(
    scope: Scope = typer.Option(..., "--scope", help="what kind of identifier"),
    value: str = typer.Option(..., "--value", help="the identifier (stored only hashed)"),
    reason: str = typer.Option(..., "--reason"),
    by: str = typer.Option(..., "--by", help="who blocks it"),
    days: int | None = typer.Option(None, "--days", help="for this long (default: permanent)"),
    case: str | None = typer.Option(None, "--case", help="the case it comes from"),
) -> None:
    """Block an identifier through every channel."""
    platform = make_platform()
    with command_transaction(platform) as db:
        entry = sanctions.block(
            db,
            scope=scope,
            value=value,
            reason=reason,
            actor=cli_actor(by),
            now=platform.clock.now(),
            protector=platform.protector,
            days=days,
            case_ref=case,
        ).entry
        console.print(f"blocked {entry.scope.value} {entry.label} as entry {entry.id}")


@app.command("lift")
def lift(
    entry_id: int = typer.Argument(...),
    by: str = typer.Option(..., "--by", help="the staff member at the desk"),
    checked: str = typer.Option(..., "--checked", help="what was checked in person"),
) -> None:
    """Lift a block after the person came to the hospital in person."""
    platform = make_platform()
    with command_transaction(platform) as db:
        entry = service.lift_in_person(
            db, entry_id=entry_id, actor=cli_actor(by), checked=checked, now=platform.clock.now()
        )
        console.print(f"entry {entry.id} lifted by {entry.lifted_by}")


@app.command("list")
def list_(all_: bool = typer.Option(False, "--all", help="include lifted entries")) -> None:
    platform = make_platform()
    with command_transaction(platform) as db:
        rows = repo.listing(db, include_lifted=all_)
        table = Table("id", "scope", "identifier", "reason", "by", "expires", "lifted")
        for e in rows:
            table.add_row(
                str(e.id),
                e.scope.value,
                e.label,
                e.reason,
                e.created_by,
                e.expires_at.isoformat() if e.expires_at else "never",
                f"{e.lifted_by}: {e.lift_note}" if e.lifted_at else "",
            )
    console.print(table)
