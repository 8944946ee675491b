from __future__ import annotations

import typer

app = typer.Typer(help="alternatives commands (issue 3).")
