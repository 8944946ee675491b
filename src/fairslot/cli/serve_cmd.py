from __future__ import annotations

import gc

import typer
import uvicorn
from anyio import to_thread
from starlette.types import ASGIApp, Receive, Scope, Send

from fairslot.api.access_log import enable_access_log
from fairslot.bootstrap import Platform, bootstrap
from fairslot.cli.common import console, make_platform
from fairslot.cli.worker_cmd import start_background_sweeper
from fairslot.config import load_settings
from fairslot.db import migrate
from fairslot.observability import multiproc
from fairslot.web.site import create_site

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
    # Several processes add their metrics up in one fresh directory, set before any
    # instrument exists (the pool's are made with the platform) and before the workers
    # start (they inherit it): observability/multiproc.py.
    shared = (
        multiproc.start_server_directory()
        if workers > 1 or multiproc.directory() is not None
        else None
    )
    try:
        _serve(host=host, port=port, workers=workers, upgrade=upgrade, sweep_every=sweep_every)
    finally:
        if shared is not None:
            multiproc.remove_server_directory(shared)


def _serve(*, host: str, port: int, workers: int, upgrade: bool, sweep_every: float) -> None:
    platform = make_platform()
    if upgrade:
        migrate.upgrade(platform.engine)
    console.print(f"fairslot on http://{host}:{port}  (docs: http://{host}:{port}/docs)")
    if sweep_every > 0:
        start_background_sweeper(platform, every=sweep_every)
    if workers > 1:
        uvicorn.run(
            "fairslot.cli.serve_cmd:worker_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level="warning",
            access_log=False,  # ours instead (api/access_log.py): no raw paths or addresses
            proxy_headers=False,  # FAIRSLOT_TRUSTED_PROXIES decides (api/deps.py::client_ip)
            timeout_worker_healthcheck=WORKER_HEALTHCHECK_SECONDS,
        )
    else:
        serve_access_log(platform)
        app = ThreadLimit(create_site(platform), threads=platform.settings.db_pool_size)
        settle_heap()
        uvicorn.run(
            app, host=host, port=port, log_level="warning", access_log=False, proxy_headers=False
        )


def worker_app() -> ASGIApp:
    """One uvicorn worker's application (``uvicorn --factory``), settings from the
    environment."""
    platform = bootstrap(load_settings())
    serve_access_log(platform)
    app = ThreadLimit(create_site(platform), threads=platform.settings.db_pool_size)
    settle_heap()
    return app


def settle_heap() -> None:
    """Move what start-up made (modules, the ORM's mappers, the routes and their models:
    about 280,000 objects) out of the cyclic garbage collector's sight (``gc.freeze``):
    they live as long as the process, and a full collection walked every one of them
    (about 0.15 s here) while requests waited. What requests make is collected as before."""
    gc.collect()
    gc.freeze()


def serve_access_log(platform: Platform) -> None:
    """The access log (``api/access_log.py``) on standard output in this serving process,
    unless ``FAIRSLOT_ACCESS_LOG=false``; uvicorn's own (raw paths, addresses) stays off."""
    if platform.settings.access_log:
        enable_access_log()


class ThreadLimit:
    """Run the application's blocking code (sync endpoints and dependencies) on at most
    ``threads`` threads instead of anyio's default 40.

    A request's database work runs within one such call and ends its transaction there,
    so more threads than pooled connections only queue on the pool, and every extra
    runnable thread costs the interpreter switches. Measured in the release burst (200
    clients, one worker, PostgreSQL): 40 threads 8.5-9.2 ms of CPU per request, 92-106
    answers a second; 10 threads 6.0-7.0 ms, 115-147 a second; 5 or 20 threads in between.
    """

    def __init__(self, app: ASGIApp, *, threads: int) -> None:
        self.app = app
        self.threads = threads
        self._applied = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self._applied:  # the limiter belongs to the running event loop
            to_thread.current_default_thread_limiter().total_tokens = self.threads
            self._applied = True
        await self.app(scope, receive, send)
