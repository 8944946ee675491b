from __future__ import annotations

import typer
import uvicorn

from fairslot.api.app import create_app
from fairslot.cli.common import console, make_platform
from fairslot.cli.worker_cmd import start_background_sweeper
from fairslot.db import migrate

# uvicorn's supervisor pings each worker and kills one that has not answered within this
# long (default 5 s). Under a release burst on a busy machine a worker's pong thread can
# wait longer than that for the interpreter, and killing the worker drops every request
# it holds (one benchmark run lost 167 of 1,779 requests to connection resets, all
# within seconds, with the default). A worker that is really hung is still replaced.
WORKER_HEALTHCHECK_SECONDS = 60


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
            timeout_worker_healthcheck=WORKER_HEALTHCHECK_SECONDS,
        )
    else:
        uvicorn.run(create_app(platform), host=host, port=port, log_level="warning")
