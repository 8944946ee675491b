"""``fairslot bench release``: the whole run, start to finish.

1. A fresh database (or ``--database-url``), migrated; the release-day world seeded
   through the real services (``scenario.seed_world``).
2. The real server (``python -m fairslot serve``, ``workers`` uvicorn processes) on a free
   port, with the platform's own settings: rate limits stay on (see ``rate_limit_note``).
3. The clients connect; the hospital pushes the release day's sessions with the release
   instant a second or two ahead; at that instant the burst starts (``load.run``).
4. The server stops; what was booked is checked in the database and in the ledger
   (``checks``).
5. The raw limit of the same claim on the same database (``raw.measure``).
"""

from __future__ import annotations

import math
import os
import random
import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from fairslot.bench import load, raw
from fairslot.bench import repository as bench_repo
from fairslot.bench.checks import CheckReport, check
from fairslot.bench.scenario import Release, World, WorldSize, push_release, seed_world
from fairslot.bench.stats import Summary, result_document, summarise
from fairslot.bootstrap import Platform, bootstrap
from fairslot.config import Settings, load_settings
from fairslot.db import migrate
from fairslot.db.engine import make_session_factory, unit_of_work
from fairslot.db.scratch import DEFAULT_PG_ADMIN, fresh_database
from fairslot.localserver import running_server

RELEASE_LEAD = timedelta(seconds=1)
MAX_CLIENTS = 10_000


@dataclass(frozen=True)
class BenchOptions:
    backend: str = "sqlite"
    clients: int = 1000
    workers: int = 1
    database_url: str | None = None
    pg_admin_url: str = DEFAULT_PG_ADMIN
    redis_url: str | None = None
    duration_s: float = 20.0
    max_requests: int | None = None
    seed: int = 2026
    identities: int | None = None  # default: max(2000, 2 x clients)
    think_ms: float = 0.0
    raw_seconds: float = 5.0
    ceiling_seconds: float = 5.0  # 0: do not measure the framework ceiling
    scarce_sessions: int = 4
    slots_per_session: int = 10

    def identity_count(self) -> int:
        return self.identities or max(2000, 2 * self.clients)


@dataclass(frozen=True)
class BenchRun:
    options: BenchOptions
    settings: Settings
    world: World
    release: Release
    summary: Summary
    checks: CheckReport
    scarce_taken: int
    raw: raw.RawResult
    ceiling: load.Ceiling | None
    seed_seconds: float
    server_log: str
    document: dict[str, Any]


def run_release_bench(
    options: BenchOptions, *, progress: Callable[[str], None] = lambda _: None
) -> BenchRun:
    if not 1 <= options.clients <= MAX_CLIENTS:
        raise ValueError(f"--clients must be between 1 and {MAX_CLIENTS}")
    if options.workers < 1:
        raise ValueError("--workers must be at least 1")
    token = secrets.token_hex(4)
    with _database(options, token=token) as url:
        settings = load_settings(
            database_url=url,
            redis_url=options.redis_url,
            redis_namespace=f"fairslot-bench-{token}",
        )
        platform = bootstrap(settings)
        try:
            return _run(options, platform=platform, token=token, progress=progress)
        finally:
            platform.engine.dispose()


def _run(
    options: BenchOptions, *, platform: Platform, token: str, progress: Callable[[str], None]
) -> BenchRun:
    settings = platform.settings
    migrate.upgrade(platform.engine)
    progress(f"seeding {options.identity_count()} identities")
    began = time.perf_counter()
    with unit_of_work(platform.sessions) as db:
        world = seed_world(
            db,
            token=token,
            size=WorldSize(
                identities=options.identity_count(),
                scarce_sessions=options.scarce_sessions,
                slots_per_session=options.slots_per_session,
            ),
            now=platform.clock.now(),
            rng=random.Random(options.seed),
            protector=platform.protector,
            settings=settings,
        )
    seed_seconds = time.perf_counter() - began

    def release() -> Release:
        with unit_of_work(platform.sessions) as db:
            now = platform.clock.now()
            at = _next_whole_second(now + RELEASE_LEAD)
            return push_release(db, world=world, now=now, release_at=at)

    progress(f"starting the server ({options.workers} worker(s))")
    with running_server(workers=options.workers, env=server_env(settings)) as server:
        progress(f"{options.clients} clients: connecting, then the release")
        result, released = load.run(
            load.LoadPlan(
                base_url=server.base_url,
                clients=options.clients,
                identities=world.identities,
                duration_s=options.duration_s,
                max_requests=options.max_requests,
                think_s=options.think_ms / 1000,
                seed=options.seed,
            ),
            release=release,
        )
        ceiling = None
        if options.ceiling_seconds > 0:
            progress(f"the framework ceiling: GET /healthz for {options.ceiling_seconds:.0f} s")
            ceiling = load.ceiling(
                server.base_url, clients=options.clients, seconds=options.ceiling_seconds
            )
    progress("checking the database and the ledger")
    checks, scarce_taken = _check(platform, released)
    progress(f"measuring the raw limit for {options.raw_seconds:.0f} s")
    raw_result = raw.measure(
        database_url=settings.database_url,
        slot_ids=released.raw_slot_ids,
        channel_id=world.raw_channel_id,
        processes=options.workers,
        threads=raw_threads(options, settings),
        seconds=options.raw_seconds,
    )
    summary = summarise(result.samples, seconds=result.seconds)
    return BenchRun(
        options=options,
        settings=settings,
        world=world,
        release=released,
        summary=summary,
        checks=checks,
        scarce_taken=scarce_taken,
        raw=raw_result,
        ceiling=ceiling,
        seed_seconds=seed_seconds,
        server_log=server.log,
        document=result_document(
            backend=options.backend,
            workers=options.workers,
            summary=summary,
            oversold=checks.oversold,
            double_booked=checks.double_booked,
            raw_limit_rps=raw_result.rps,
            ceiling_rps=ceiling.rps if ceiling is not None else None,
        ),
    )


def raw_threads(options: BenchOptions, settings: Settings) -> int:
    """Connections per raw process: as many as one server worker may have open (its pool
    plus overflow), or fewer if the clients are fewer."""
    return max(1, min(math.ceil(options.clients / options.workers), 2 * settings.db_pool_size))


def server_env(settings: Settings) -> dict[str, str]:
    """The server's environment: ours, with the run's database and rate-limit store."""
    env = {k: v for k, v in os.environ.items() if k != "FAIRSLOT_REDIS_URL"}
    env["FAIRSLOT_DATABASE_URL"] = settings.database_url
    env["FAIRSLOT_REDIS_NAMESPACE"] = settings.redis_namespace
    if settings.redis_url:
        env["FAIRSLOT_REDIS_URL"] = settings.redis_url
    return env


def rate_limit_note(settings: Settings, *, workers: int) -> str:
    if not settings.rate_limit_enabled:
        return "off (FAIRSLOT_RATE_LIMIT_ENABLED=false)"
    store = "Redis, shared" if settings.redis_url else f"memory, per worker x{workers}"
    return f"{settings.rate_limits} per account, device and IP ({store})"


def _check(platform: Platform, released: Release) -> tuple[CheckReport, int]:
    reader = make_session_factory(platform.engine, reader=True)
    with unit_of_work(reader) as db:
        sessions = released.all_session_ids
        occupying = bench_repo.occupying(db, session_ids=sessions)
        report = check(
            occupying=occupying,
            slots_per_session=bench_repo.slots_per_session(db, session_ids=sessions),
            ledger=bench_repo.ledger(db, session_ids=sessions),
        )
    scarce = set(released.scarce_session_ids)
    return report, sum(1 for b in occupying if b.session_id in scarce)


@contextmanager
def _database(options: BenchOptions, *, token: str) -> Iterator[str]:
    if options.database_url:
        yield options.database_url
        return
    with fresh_database(
        backend=options.backend, token=token, pg_admin_url=options.pg_admin_url
    ) as url:
        yield url


def _next_whole_second(at: datetime) -> datetime:
    whole = at.replace(microsecond=0)
    return whole if whole == at else whole + timedelta(seconds=1)
