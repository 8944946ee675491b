from __future__ import annotations

import typer
import uvicorn

from fairslot.api.app import create_app
from fairslot.cli.common import console, make_platform
from fairslot.cli.worker_cmd import start_background_sweeper
from fairslot.db import migrate


def serve(
    host: str = typer.Option("127.0.0.1", "--host"),
    port: int = typer.Option(8000, "--port"),
    workers: int = typer.Option(1, "--workers", help="worker processes (PostgreSQL)"),
    upgrade: bool = typer.Option(True, "--upgrade/--no-upgrade", help="migrate first"),
    sweep_every: float = typer.Option(
        15.0, "--sweep-every", help="run the worker's sweep in-process every N s (0: off)"
    ),
) -> None:
    """Serve the channel and hospital APIs on the configured database."""
    platform = make_platform()
    if upgrade:
        migrate.upgrade(platform.engine)
    console.print(f"fairslot on http://{host}:{port}  (docs: http://{host}:{port}/docs)")
    if sweep_every > 0:
        start_background_sweeper(platform, every=sweep_every)
    if workers > 1:
        uvicorn.run(
            "fairslot.api.asgi:app_from_env",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level="warning",
            proxy_headers=False,  # FAIRSLOT_TRUSTED_PROXIES decides (api/deps.py::client_ip)
        )
    else:
        uvicorn.run(
            create_app(platform), host=host, port=port, log_level="warning", proxy_headers=False
        )
