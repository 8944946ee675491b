from __future__ import annotations

import typer

app = typer.Typer(help="draw commands (issue 3).")
