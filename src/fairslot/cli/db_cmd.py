from __future__ import annotations

import typer

from fairslot.cli.common import console, make_platform
from fairslot.db import migrate

app = typer.Typer(help="Database schema (Alembic migrations are the only way it is made).")


@app.command("upgrade")
def upgrade(revision: str = typer.Argument("head")) -> None:
    """Apply migrations up to REVISION (default: head)."""
    platform = make_platform()
    # The server's own keys: rows converted by a data migration (0009) must match the
    # keys and ciphertexts the server makes.
    migrate.upgrade(platform.engine, revision, protector=platform.protector)
    console.print(f"[green]database at {revision}[/]: {platform.engine.url.render_as_string()}")


@app.command("check")
def check() -> None:
    """Upgrade, then fail if the models and the migrations disagree (alembic check)."""
    platform = make_platform()
    migrate.upgrade(platform.engine)
    migrate.check(platform.engine)
    console.print("[green]models and migrations agree[/]")
