"""The raw database limit: how many claims a second the database itself takes, on the
same machine, in the same run, without HTTP and without the application.

"The claim" is the statement ``bookings/repository.py::claim_statement`` builds — the
compare-and-set ``UPDATE slots … WHERE state = 'open' …`` with the whole release gate in
its WHERE clause — compiled once by SQLAlchemy for the database, then sent as bare SQL
through the driver (psycopg or sqlite3), one statement per transaction (autocommit), by
``workers`` processes, each with as many threads as one server worker may hold pooled
connections. ``K`` clients sharing ``P`` connections keep at most ``P`` statements in
flight, which ``P`` threads in a closed loop reproduce without the queueing overhead.

The booking row a winning hold inserts is left out: in the burst at most one claim per
slot wins, so it is a few dozen inserts among tens of thousands of claims and does not
move the limit; the losing claims, which match no row, are what the burst is made of.

The targets are the scarce clinic's twin (``scenario.RAW``): as many sessions and slots
as the clinic the HTTP clients fight over, released at the same instant, picked at
random — so the raw claims win and lose in the same proportions.
"""

from __future__ import annotations

import multiprocessing as mp
import queue
import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from multiprocessing.synchronize import Barrier as ProcessBarrier
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.engine import Dialect
from sqlalchemy.pool import PoolProxiedConnection

from fairslot.bookings.repository import claim_statement
from fairslot.config import load_settings
from fairslot.db.engine import make_engine

HOLD = timedelta(minutes=5)
# The claim's own parameters (``claim_statement``); every other one is a constant.
_ROLES = {"slot_id": "slot", "channel_id": "channel", "now": "now", "hold_until": "until"}


@dataclass(frozen=True)
class RawClaim:
    """The claim as driver-level SQL, and how to fill in its parameters."""

    sql: str
    positional: tuple[str, ...] | None  # parameter names in order (qmark), or None (named)
    constants: dict[str, Any]
    dynamic: dict[str, tuple[str, Callable[[Any], Any] | None]]  # name -> (role, processor)

    def params(
        self, *, slot_id: str, channel_id: int, now: datetime
    ) -> dict[str, Any] | tuple[Any, ...]:
        values = {"slot": slot_id, "channel": channel_id, "now": now, "until": now + HOLD}
        params = dict(self.constants)
        for name, (role, process) in self.dynamic.items():
            value = values[role]
            params[name] = process(value) if process else value
        if self.positional is None:
            return params
        return tuple(params[name] for name in self.positional)


def compile_claim(dialect: Dialect) -> RawClaim:
    """Compile the claim once for ``dialect``, with each parameter's bind processing (time
    zones, enum values) worked out ahead, so that the loop only sends it."""
    compiled = claim_statement().compile(dialect=dialect)
    sql = str(compiled)
    if "POSTCOMPILE" in sql:
        raise RuntimeError("the claim grew a parameter that expands at run time")
    constants: dict[str, Any] = {}
    dynamic: dict[str, tuple[str, Callable[[Any], Any] | None]] = {}
    for bind, name in compiled.bind_names.items():
        process = bind.type.dialect_impl(dialect).bind_processor(dialect)
        if name in _ROLES:
            dynamic[name] = (_ROLES[name], process)
        else:
            value = compiled.params.get(name)
            constants[name] = process(value) if process else value
    if set(dynamic) != set(_ROLES):
        raise RuntimeError("the claim's parameters are not the ones this measurement fills in")
    positional = tuple(compiled.positiontup or ()) if compiled.positional else None
    return RawClaim(sql=sql, positional=positional, constants=constants, dynamic=dynamic)


@dataclass(frozen=True)
class RawResult:
    claims: int
    won: int
    seconds: float
    processes: int
    threads_per_process: int

    @property
    def rps(self) -> float:
        return self.claims / self.seconds if self.seconds > 0 else 0.0


def measure(
    *,
    database_url: str,
    slot_ids: Sequence[str],
    channel_id: int,
    processes: int,
    threads: int,
    seconds: float,
    at: datetime | None = None,
) -> RawResult:
    """Run the claim flat out from ``processes`` x ``threads`` connections for
    ``seconds``; every connection starts at the same moment. Claims are made as of the
    real clock, or of the fixed instant ``at`` (tests travel in time)."""
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(processes + 1)
    results = ctx.Queue()
    workers = [
        ctx.Process(
            target=_process,
            kwargs={
                "database_url": database_url,
                "slot_ids": list(slot_ids),
                "channel_id": channel_id,
                "threads": threads,
                "seconds": seconds,
                "barrier": barrier,
                "results": results,
                "seed": n,
                "at": at,
            },
            daemon=True,
        )
        for n in range(processes)
    ]
    for worker in workers:
        worker.start()
    try:
        barrier.wait(timeout=180)  # every process has its connections open (slow when busy)
        counts = [results.get(timeout=seconds + 60) for _ in workers]
    except (threading.BrokenBarrierError, queue.Empty) as exc:
        raise RuntimeError("a raw-limit process failed; see its traceback above") from exc
    finally:
        for worker in workers:
            worker.join(timeout=10)
            if worker.is_alive():
                worker.terminate()
    return RawResult(
        claims=sum(c for c, _ in counts),
        won=sum(w for _, w in counts),
        seconds=seconds,
        processes=processes,
        threads_per_process=threads,
    )


def _process(
    *,
    database_url: str,
    slot_ids: list[str],
    channel_id: int,
    threads: int,
    seconds: float,
    barrier: ProcessBarrier,
    results: Any,
    seed: int,
    at: datetime | None,
) -> None:
    engine = make_engine(load_settings(database_url=database_url, db_pool_size=threads))
    claim = compile_claim(engine.dialect)
    fairies = [engine.raw_connection() for _ in range(threads)]
    connections = [_autocommit(engine, fairy) for fairy in fairies]
    tallies: list[tuple[int, int]] = []
    start = threading.Barrier(threads + 1)

    def run(n: int) -> None:
        conn = connections[n]
        cursor = conn.cursor()
        rng = random.Random(seed * 100_003 + n)
        claims = won = 0
        start.wait()
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            cursor.execute(
                claim.sql,
                claim.params(
                    slot_id=rng.choice(slot_ids), channel_id=channel_id, now=at or datetime.now(UTC)
                ),
            )
            claims += 1
            won += cursor.rowcount == 1
        tallies.append((claims, won))

    pool = [threading.Thread(target=run, args=(n,)) for n in range(threads)]
    for thread in pool:
        thread.start()
    barrier.wait(timeout=240)
    start.wait()
    for thread in pool:
        thread.join()
    for fairy in fairies:
        fairy.invalidate()  # autocommit is not how the pool hands connections out
    engine.dispose()
    results.put((sum(c for c, _ in tallies), sum(w for _, w in tallies)))


def _autocommit(engine: Engine, fairy: PoolProxiedConnection) -> Any:
    """The driver connection in autocommit mode: each statement its own transaction, with
    no BEGIN or COMMIT round trip of its own (sqlite3 connections already are)."""
    driver = fairy.driver_connection
    assert driver is not None  # just checked out
    if engine.dialect.name == "postgresql":
        driver.rollback()
        driver.autocommit = True
    return driver
