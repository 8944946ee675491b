from __future__ import annotations

import typer
import uvicorn

from fairslot.api.app import create_app
from fairslot.cli.common import console, make_platform
from fairslot.db import migrate


def serve(
    host: str = typer.Option("127.0.0.1", "--host"),
    port: int = typer.Option(8000, "--port"),
    workers: int = typer.Option(1, "--workers", help="worker processes (PostgreSQL)"),
    upgrade: bool = typer.Option(True, "--upgrade/--no-upgrade", help="migrate first"),
) -> None:
    """Serve the channel and hospital APIs on the configured database."""
    platform = make_platform()
    if upgrade:
        migrate.upgrade(platform.engine)
    console.print(f"fairslot on http://{host}:{port}  (docs: http://{host}:{port}/docs)")
    if workers > 1:
        uvicorn.run(
            "fairslot.api.asgi:app_from_env",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level="warning",
        )
    else:
        uvicorn.run(create_app(platform), host=host, port=port, log_level="warning")
