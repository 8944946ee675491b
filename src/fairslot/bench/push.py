"""The schedule-push benchmark (issue 14: "a schedule push of 200 sessions x 500 slots
took 48.5 s on SQLite and locked the sweeper out").

A fresh database, a hospital and two reserving channels (``bench/push_world.py``), then
one document pushed through ``schedules.service.import_schedule`` in one transaction,
committed as the hospital API commits it. Figures: wall and CPU seconds of the import
and of its commit, the statements sent, the rows written (counted back after the
commit), a second push of the same document (idempotent: it must write nothing), and,
with the probe, how long the sweeper's short write transaction waited meanwhile
(``bench/push_probe.py``). CPU seconds are this process's: PostgreSQL's own work shows in
the wall time only.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, event

from fairslot.bench.push_probe import Probe, sweeping
from fairslot.bench.push_repository import Written, written
from fairslot.bench.push_world import PushShape, document, seed_hospital
from fairslot.bootstrap import Platform, bootstrap
from fairslot.clock import ManualClock
from fairslot.config import load_settings
from fairslot.context import RequestContext
from fairslot.db import migrate
from fairslot.db.engine import unit_of_work
from fairslot.db.scratch import DEFAULT_PG_ADMIN, fresh_database
from fairslot.schedules import service as schedules
from fairslot.schedules.formats import ScheduleDocument
from fairslot.schedules.schemas import ImportReport

# 2026-11-22 08:00 in Shanghai: a fixed instant, so every run pushes the same document.
NOW = datetime(2026, 11, 22, 0, 0, tzinfo=UTC)


@dataclass(frozen=True)
class PushOptions:
    backend: str = "sqlite"  # sqlite | postgresql
    shape: PushShape = field(default_factory=PushShape)
    pg_admin_url: str = DEFAULT_PG_ADMIN
    probe_interval_s: float | None = 0.2  # None: no sweeper probe
    seed: int = 2026


@dataclass(frozen=True)
class Timed:
    """One push's transaction: import (the service flushes) and commit (the edge's)."""

    report: ImportReport
    import_s: float
    commit_s: float
    cpu_s: float
    statements: int
    began: float  # time.monotonic()
    ended: float

    @property
    def wall_s(self) -> float:
        return self.import_s + self.commit_s

    def figures(self) -> dict[str, Any]:
        return {
            "wall_s": round(self.wall_s, 3),
            "import_s": round(self.import_s, 3),
            "commit_s": round(self.commit_s, 3),
            "cpu_s": round(self.cpu_s, 3),
            "statements": self.statements,
            "outcomes": {
                "created": self.report.created,
                "updated": self.report.updated,
                "unchanged": self.report.unchanged,
                "withdrawn": self.report.withdrawn,
                "rejected": self.report.rejected,
            },
        }


def run_push_bench(
    options: PushOptions, *, progress: Callable[[str], None] = lambda _: None
) -> dict[str, Any]:
    """Push the document twice into a fresh database; the figures as a JSON document."""
    shape = options.shape
    with fresh_database(
        backend=options.backend,
        token=str(os.getpid()),
        pg_admin_url=options.pg_admin_url,
        prefix="fairslot_push_bench",
    ) as url:
        platform = bootstrap(
            load_settings(database_url=url), clock=ManualClock(NOW), rng=random.Random(options.seed)
        )
        try:
            progress("migrating")
            migrate.upgrade(platform.engine)
            with unit_of_work(platform.sessions) as db:
                hospital = seed_hospital(db, token=str(options.seed), now=NOW)
            doc = document(hospital=hospital, shape=shape, now=NOW)
            with ExitStack() as stack:
                probe: Probe | None = None
                if options.probe_interval_s is not None:
                    progress("starting the sweeper probe")
                    probe = stack.enter_context(
                        sweeping(url, now=NOW, interval=options.probe_interval_s)
                    )
                progress(f"pushing {shape.sessions} sessions x {shape.slots} slots")
                first = _timed_push(platform, doc=doc)
                progress("pushing the same document again")
                again = _timed_push(platform, doc=doc)
            with unit_of_work(platform.sessions) as db:
                rows = written(db, hospital_id=hospital.id)
        finally:
            platform.engine.dispose()
    return {
        "backend": options.backend,
        "sessions": shape.sessions,
        "slots_per_session": shape.slots,
        "slots": shape.total_slots,
        "late": shape.late,
        "load_average": [round(n, 2) for n in os.getloadavg()],
        "push": first.figures(),
        "repush": again.figures(),
        "written": rows.as_dict(),
        "probe": None if probe is None else probe.summary(began=first.began, ended=first.ended),
        "problems": problems(shape, first=first.report, again=again.report, rows=rows),
    }


def problems(
    shape: PushShape, *, first: ImportReport, again: ImportReport, rows: Written
) -> list[str]:
    """What the push did that it should not have (an empty list: nothing)."""
    found: list[str] = []
    if first.created != shape.sessions:
        found.append(f"the push created {first.created} of {shape.sessions} sessions")
    if again.unchanged != shape.sessions:
        found.append(f"the second push left {again.unchanged} of {shape.sessions} unchanged")
    if (rows.sessions, rows.slots) != (shape.sessions, shape.total_slots):
        found.append(f"{rows.sessions} sessions and {rows.slots} slots stored")
    if rows.pushed_events != shape.total_slots:
        found.append(f"{rows.pushed_events} pushed ledger rows for {shape.total_slots} slots")
    cooling = shape.total_slots if shape.late else 0
    if rows.cooling_events != cooling:
        found.append(f"{rows.cooling_events} cooling ledger rows, not {cooling}")
    return found


def _timed_push(platform: Platform, *, doc: ScheduleDocument) -> Timed:
    """One import in one transaction, as the hospital API runs it (the edge commits)."""
    settings = platform.settings
    with counting(platform.engine) as sent:
        cpu = time.process_time()
        began = time.monotonic()
        with unit_of_work(platform.sessions) as db:
            report = schedules.import_schedule(
                db,
                doc=doc,
                now=platform.clock.now(),
                ctx=RequestContext(actor=f"hospital:{doc.hospital}"),
                rng=platform.rng,
                late_release_minutes=(
                    settings.late_release_min_minutes,
                    settings.late_release_max_minutes,
                ),
            )
            imported = time.monotonic()
        ended = time.monotonic()
        cpu = time.process_time() - cpu
    return Timed(
        report=report,
        import_s=imported - began,
        commit_s=ended - imported,
        cpu_s=cpu,
        statements=len(sent),
        began=began,
        ended=ended,
    )


@contextmanager
def counting(engine: Engine) -> Iterator[list[str]]:
    """The statements ``engine`` executes inside the block, their first words only. An
    ``executemany`` counts once: sqlite3 runs it in one call, psycopg pipelines its
    rows (one INSERT each on the server, without waiting for each answer)."""
    sent: list[str] = []

    def note(*args: object) -> None:
        sent.append(" ".join(str(args[2]).split()[:3]))

    event.listen(engine, "before_cursor_execute", note)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", note)
