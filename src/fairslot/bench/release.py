"""``fairslot bench release``: the whole run, start to finish.

1. A fresh database (or ``--database-url``), migrated; the release-day world seeded
   through the real services (``scenario.seed_world``).
2. The generator's yardstick: wrk against the trivial responder (``bench/responder.py``,
   as many processes as the server has workers).
3. The real server (``python -m fairslot serve``, ``workers`` uvicorn processes) with the
   platform's own settings (rate limits on). The hospital pushes the release day's
   sessions with the release instant a moment ahead; from that instant wrk plays, each
   phase with the same connections (``bench/phases.py``): the release mix closed-loop,
   the same mix open-loop at 70 % of that rate, holds on the sold-out sessions,
   availability polls, successful holds, confirms of those holds, ``GET /healthz``.
4. The hand-written anchor (``bench/anchor.py``) served the same way, with the same
   workers, pool and database: one claim per slot of its own clinic.
5. What was booked is checked in the database and in the ledger (``checks``); the raw
   limit of the product's claim as bare SQL (``raw.measure``, issue 5's figure).
"""

from __future__ import annotations

import math
import os
import random
import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fairslot.bench import phases, profile, raw, wrk
from fairslot.bench import repository as bench_repo
from fairslot.bench.checks import CheckReport, check
from fairslot.bench.figures import (
    Figure,
    Generator,
    OpenLoop,
    again_window,
    figure,
    phase_figures,
    result_document,
    server_errors,
)
from fairslot.bench.lua import Pacing
from fairslot.bench.scenario import Release, World, WorldSize, push_release, seed_world
from fairslot.bench.servers import running_module
from fairslot.bench.stats import Sample, Summary, active_seconds, summarise
from fairslot.bootstrap import Platform, bootstrap
from fairslot.config import Settings, load_settings
from fairslot.db import migrate
from fairslot.db.engine import make_session_factory, unit_of_work
from fairslot.db.scratch import DEFAULT_PG_ADMIN, fresh_database
from fairslot.localserver import running_server

RELEASE_LEAD = timedelta(seconds=3)  # the push, then a warm-up, then the release
WARM_UP_S = 1.0
MAX_CLIENTS = 2_000  # wrk threads, one connection each (bench/lua.py)
OPEN_LOOP_SHARE = 0.7  # of the closed-loop mix's rate
# The sold-out phase runs this many phases' time: every caller's first refusal in a worker
# goes through the whole gate, the later ones may take the sold-out lane, and with the
# default 2,000 identities the first round alone takes about 4 s on this machine
# (figures.py::again_window measures what comes after it, ``sold_out_again``).
SOLD_OUT_ROUNDS = 3


@dataclass(frozen=True)
class BenchOptions:
    backend: str = "sqlite"
    clients: int = 256
    workers: int = 1
    database_url: str | None = None
    pg_admin_url: str = DEFAULT_PG_ADMIN
    redis_url: str | None = None
    duration_s: float = 10.0  # the release mix, closed loop
    phase_s: float = 5.0  # every other phase
    seed: int = 2026
    identities: int | None = None  # default: max(2000, 2 x clients)
    anchor_slots: int = 6000
    raw_seconds: float = 5.0
    scarce_sessions: int = 4
    slots_per_session: int = 10
    profile_dir: str | None = None  # py-spy the product's server in each phase (bench/profile.py)

    def identity_count(self) -> int:
        return self.identities or max(2000, 2 * self.clients)


@dataclass(frozen=True)
class BenchRun:
    options: BenchOptions
    settings: Settings
    world: World
    release: Release
    mix: Summary
    figures: list[Figure]
    generator: Generator
    open_loop: OpenLoop
    checks: CheckReport
    scarce_taken: int
    raw: raw.RawResult
    seed_seconds: float
    server_log: str
    document: dict[str, Any]
    notes: list[str] = field(default_factory=list)


def run_release_bench(
    options: BenchOptions, *, progress: Callable[[str], None] = lambda _: None
) -> BenchRun:
    if not 1 <= options.clients <= MAX_CLIENTS:
        raise ValueError(f"--clients must be between 1 and {MAX_CLIENTS}")
    if options.workers < 1:
        raise ValueError("--workers must be at least 1")
    if options.identity_count() < options.clients:
        raise ValueError("--identities must be at least --clients (one or more per connection)")
    wrk.wrk_path()  # fail before seeding if the generator is missing
    token = secrets.token_hex(4)
    with _database(options, token=token) as url:
        settings = load_settings(
            database_url=url,
            redis_url=options.redis_url,
            redis_namespace=f"fairslot-bench-{token}",
            # The bench measures the first-come race (what the anchor does by hand): its
            # fresh clinics have no release history, which the platform's caution would
            # otherwise batch (allocation/scarcity.py) — every hold a 202 entry.
            scarce_without_history=False,
        )
        platform = bootstrap(settings)
        try:
            return _run(options, platform=platform, token=token, progress=progress)
        finally:
            platform.engine.dispose()


@dataclass
class _Phases:
    """What each wrk phase recorded, and wrk's CPU share in it."""

    samples: dict[str, list[Sample]] = field(default_factory=dict)
    cpu_share: dict[str, float] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    profile_dir: Path | None = None
    server_pid: int = 0

    def play(self, name: str, plan: Any, *, url: str, seconds: float) -> list[Sample]:
        if self.profile_dir is not None and self.server_pid:
            out = self.profile_dir / f"{name}.txt"
            with profile.sampling(self.server_pid, out=out):
                done = wrk.run(plan, url=url, duration_s=seconds)
            if out.exists():
                (self.profile_dir / f"{name}-top.txt").write_text(
                    "".join(
                        f"{inc:6.1%} {own:6.1%}  {frame}\n"
                        for frame, inc, own in profile.summarise(out.read_text())
                    ),
                    encoding="utf-8",
                )
        else:
            done = wrk.run(plan, url=url, duration_s=seconds)
        self.samples[name] = done.samples
        self.cpu_share[name] = done.cpu_share
        self.errors[name] = done.errors.total
        return done.samples


def _run(
    options: BenchOptions, *, platform: Platform, token: str, progress: Callable[[str], None]
) -> BenchRun:
    settings = platform.settings
    migrate.upgrade(platform.engine)
    n_identities = options.identity_count()
    progress(f"seeding {n_identities} identities")
    began = time.perf_counter()
    with unit_of_work(platform.sessions) as db:
        world = seed_world(
            db,
            token=token,
            size=WorldSize(
                identities=n_identities,
                scarce_sessions=options.scarce_sessions,
                slots_per_session=options.slots_per_session,
                ample_slots=n_identities,
                anchor_slots=options.anchor_slots,
            ),
            now=platform.clock.now(),
            rng=random.Random(options.seed),
            protector=platform.protector,
            settings=settings,
        )
    seed_seconds = time.perf_counter() - began
    k, phase_s = options.clients, options.phase_s
    env = server_env(settings)
    played = _Phases()

    progress("the generator against the trivial responder")
    with running_module("fairslot.bench.responder", workers=options.workers, env=env) as url:
        played.play(
            "trivial",
            phases.get_plan(endpoint="trivial_responder", path="/", connections=k),
            url=url,
            seconds=phase_s,
        )

    progress(f"pushing the release; the server ({options.workers} worker(s))")
    with running_server(workers=options.workers, env=env) as server:
        if options.profile_dir:
            played.profile_dir = Path(options.profile_dir)
            played.profile_dir.mkdir(parents=True, exist_ok=True)
            played.server_pid = server.pid
        with unit_of_work(platform.sessions) as db:
            now = platform.clock.now()
            released = push_release(
                db, world=world, now=now, release_at=_next_whole_second(now + RELEASE_LEAD)
            )
        targets = phases.Targets(
            identities=world.identities,
            release=released,
            anchor_channel_id=world.raw_channel_id,
            connections=k,
        )
        url = server.base_url
        # Before the release: polls of the (still empty) clinic, so that every worker has
        # imported, connected and filled its caches before the first measured request.
        progress("warming up the server (availability, before the release)")
        played.play("warm_up", phases.availability_plan(targets), url=url, seconds=WARM_UP_S)
        time.sleep(max(0.0, (released.release_at - datetime.now(UTC)).total_seconds()))
        progress(f"the release mix, {k} connections, {options.duration_s:.0f} s")
        mix_samples = played.play(
            "mix", phases.mix_plan(targets), url=url, seconds=options.duration_s
        )
        mix = summarise(mix_samples, seconds=active_seconds(mix_samples))
        rate = max(1.0, OPEN_LOOP_SHARE * mix.throughput_rps)
        progress(f"the mix open-loop at {rate:.0f} requests/s")
        played.play(
            "open_loop",
            phases.mix_plan(targets, pacing=Pacing(rate=rate, connections=k)),
            url=url,
            seconds=phase_s,
        )
        for name, plan, seconds in (
            ("sold_out", phases.sold_out_plan(targets), SOLD_OUT_ROUNDS * phase_s),
            ("availability", phases.availability_plan(targets), phase_s),
            ("hold", phases.hold_plan(targets, by="slot"), phase_s),
            ("hold_by_session", phases.hold_plan(targets, by="session"), phase_s),
        ):
            progress(f"phase {name}")
            played.play(name, plan, url=url, seconds=seconds)
        progress("phase confirm")
        played.play(
            "confirm",
            phases.confirm_plan(
                targets, holds=played.samples["hold"] + played.samples["hold_by_session"]
            ),
            url=url,
            seconds=phase_s,
        )
        progress("the ceiling: GET /healthz")
        played.play(
            "ceiling",
            phases.get_plan(endpoint="healthz", path="/healthz", connections=k),
            url=url,
            seconds=phase_s,
        )
    played.server_pid = 0  # the anchor is not ours to profile
    progress("the hand-written anchor")
    with running_module("fairslot.bench.anchor", workers=options.workers, env=env) as url:
        played.play("anchor", phases.anchor_plan(targets), url=url, seconds=phase_s)

    progress("checking the database and the ledger")
    checks, scarce_taken = _check(platform, released)
    progress(f"measuring the raw limit for {options.raw_seconds:.0f} s")
    raw_error = None
    try:
        raw_result = raw.measure(
            database_url=settings.database_url,
            slot_ids=released.raw_slot_ids,
            channel_id=world.raw_channel_id,
            processes=options.workers,
            threads=raw_threads(options, settings),
            seconds=options.raw_seconds,
        )
    except RuntimeError as exc:
        # Issue 5's secondary figure: a failure to measure it (a busy machine, too few
        # database connections left) must not throw away the run's other figures.
        raw_error = str(exc)
        raw_result = raw.RawResult(
            claims=0, won=0, seconds=0.0, processes=options.workers, threads_per_process=0
        )
    figures = _figures(played)
    open_samples = played.samples["open_loop"]
    open_summary = summarise(open_samples, seconds=active_seconds(open_samples))
    open_loop = OpenLoop(
        target_rps=rate,
        achieved_rps=open_summary.throughput_rps,
        p50_ms=open_summary.p50_ms,
        p99_ms=open_summary.p99_ms,
        requests=open_summary.requests,
    )
    trivial = next(f for f in figures if f.name == "trivial_responder")
    generator = Generator(trivial_rps=trivial.ok_rps, cpu_share=played.cpu_share)
    product = [s for name, group in played.samples.items() if name not in ("trivial", "anchor")
               for s in group]  # fmt: skip
    errors, busy = server_errors(product)
    connection_errors = sum(
        n for name, n in played.errors.items() if name not in ("trivial", "anchor")
    )
    return BenchRun(
        options=options,
        settings=settings,
        world=world,
        release=released,
        mix=mix,
        figures=figures,
        generator=generator,
        open_loop=open_loop,
        checks=checks,
        scarce_taken=scarce_taken,
        raw=raw_result,
        seed_seconds=seed_seconds,
        server_log=server.log,
        document=result_document(
            backend=options.backend,
            workers=options.workers,
            mix=mix,
            oversold=checks.oversold,
            double_booked=checks.double_booked,
            server_errors=errors + connection_errors,
            raw_limit_rps=raw_result.rps,
            figures=figures,
            generator=generator,
            open_loop=open_loop,
            extra={
                "redis": bool(options.redis_url),
                "clients": k,
                "busy_503": busy,
                "ledger_disagrees": checks.ledger_disagrees,
                "open_loop_achieved_rps": round(open_loop.achieved_rps, 1),
                "generator_trivial_rps": round(generator.trivial_rps, 1),
                "ceiling_generator_bound": generator.bound(_rps(figures, "healthz")),
                "raw_limit_error": raw_error,
            },
        ),
    )


def _figures(played: _Phases) -> list[Figure]:
    s = played.samples
    one = {
        "trivial": "trivial_responder",
        "ceiling": "healthz",
        "anchor": "anchor_claim",
        "availability": "availability",
        "sold_out": "sold_out",
        "confirm": "confirm",
    }
    figures = [figure(name, phase=phase, samples=s[phase]) for phase, name in one.items()]
    # "hold" is by slot, one claim per slot like the anchor's; by session apart.
    figures.append(figure("hold", phase="hold", samples=s["hold"]))
    figures.append(figure("hold_by_session", phase="hold_by_session", samples=s["hold_by_session"]))
    again = again_window(s["sold_out"])
    if again is not None:
        window, seconds = again
        figures.append(figure("sold_out_again", phase="sold_out", samples=window, seconds=seconds))
    figures += phase_figures("mix", s["mix"], prefix="mix:")
    figures += phase_figures("open_loop", s["open_loop"], prefix="open_loop:")
    return figures


def _rps(figures: list[Figure], name: str) -> float:
    return next((f.rps for f in figures if f.name == name), 0.0)


def raw_threads(options: BenchOptions, settings: Settings) -> int:
    """Connections per raw process: as many as one server worker may have open (its pool
    plus overflow), or fewer if the clients are fewer."""
    return max(1, min(math.ceil(options.clients / options.workers), 2 * settings.db_pool_size))


def server_env(settings: Settings) -> dict[str, str]:
    """The server's environment: ours, with the run's database and rate-limit store."""
    env = {k: v for k, v in os.environ.items() if k != "FAIRSLOT_REDIS_URL"}
    env["FAIRSLOT_DATABASE_URL"] = settings.database_url
    env["FAIRSLOT_REDIS_NAMESPACE"] = settings.redis_namespace
    env["FAIRSLOT_SCARCE_WITHOUT_HISTORY"] = "true" if settings.scarce_without_history else "false"
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
