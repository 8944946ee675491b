"""The sweeper next to a push: how long its short write transaction waits.

A separate process (so that the push's Python work does not delay it through the GIL)
runs the worker's sweep (``waitlist.sweeps.sweep``, one transaction, as
``cli/worker_cmd.py::sweep_once`` does) every ``interval`` seconds and notes when each
began and ended on the system-wide monotonic clock. The bench then reads the sweeps that
overlapped the push's transaction: on SQLite a sweep waits at ``BEGIN IMMEDIATE`` for the
push to commit, and gives up (``database is locked``) after the busy timeout (30 s).
"""

from __future__ import annotations

import multiprocessing
import random
import statistics
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from multiprocessing.connection import Connection
from typing import Any

from sqlalchemy.exc import OperationalError

from fairslot.bookings.policy import booking_policy
from fairslot.bootstrap import bootstrap
from fairslot.clock import ManualClock
from fairslot.config import load_settings
from fairslot.db.engine import unit_of_work
from fairslot.waitlist import sweeps

READY_TIMEOUT_S = 120.0

Sample = tuple[float, float, bool]  # began, ended (time.monotonic), committed


@dataclass
class Probe:
    """The samples of a finished probe, read against the push's transaction."""

    interval_s: float
    samples: list[Sample] = field(default_factory=list)

    def summary(self, *, began: float, ended: float) -> dict[str, Any]:
        before = [end - start for start, end, ok in self.samples if ok and end <= began]
        during = [
            (end - start, ok) for start, end, ok in self.samples if start < ended and end > began
        ]
        waits = [seconds for seconds, _ in during]
        return {
            "interval_s": self.interval_s,
            "baseline_median_s": _round(statistics.median(before)) if before else None,
            "during_push": len(during),
            "during_push_max_s": _round(max(waits)) if waits else None,
            "during_push_median_s": _round(statistics.median(waits)) if waits else None,
            "failed": sum(1 for _, ok in during if not ok),
        }


@contextmanager
def sweeping(url: str, *, now: datetime, interval: float) -> Iterator[Probe]:
    """Sweep ``url`` from a child process until the block ends; the samples land in the
    yielded probe when it does."""
    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    stop = context.Event()
    ready = context.Event()
    process = context.Process(
        target=_sweep_loop,
        kwargs={"url": url, "now": now, "interval": interval, "stop": stop, "ready": ready,
                "out": theirs},
        name="fairslot-push-probe",
        daemon=True,
    )  # fmt: skip
    process.start()
    probe = Probe(interval_s=interval)
    try:
        _wait_ready(ready, process=process)
        time.sleep(interval * 5)  # a few sweeps with nothing in their way: the baseline
        yield probe
    finally:
        stop.set()
        if ours.poll(READY_TIMEOUT_S):
            probe.samples = [(float(a), float(b), bool(ok)) for a, b, ok in ours.recv()]
        process.join(timeout=READY_TIMEOUT_S)
        if process.is_alive():
            process.kill()


def _wait_ready(ready: Any, *, process: Any) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while not ready.wait(0.2):
        if not process.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the sweeper probe did not start")


def _sweep_loop(
    *,
    url: str,
    now: datetime,
    interval: float,
    stop: threading.Event,
    ready: threading.Event,
    out: Connection,
) -> None:
    settings = load_settings(database_url=url)
    platform = bootstrap(settings, clock=ManualClock(now), rng=random.Random(0))
    policy = booking_policy(settings)
    samples: list[Sample] = []
    try:
        while not stop.is_set():
            began = time.monotonic()
            try:
                with unit_of_work(platform.sessions) as db:
                    sweeps.sweep(
                        db, now=now, policy=policy, rng=platform.rng, protector=platform.protector
                    )
                committed = True
            except OperationalError:  # SQLite: "database is locked" after the busy timeout
                committed = False
            samples.append((began, time.monotonic(), committed))
            ready.set()
            stop.wait(interval)
    finally:
        out.send(samples)
        platform.engine.dispose()


def _round(seconds: float) -> float:
    return round(seconds, 4)
