"""The platform's recording interface: a few plain functions, and behind them the only
Prometheus instruments of the code base.

Callers (the HTTP middleware, the API's gate, the sweeper, the database pool) call these
functions; none of them imports ``prometheus_client``. The instruments are made on first
use, not at import: in several worker processes they must write to the shared directory
(``multiproc.py``), and that is decided when ``fairslot serve`` starts, after the import.

The per-request path (:func:`request`) looks its labelled series up in a plain dict, so a
request costs two increments and a dict hit (measured in ``docs/scaling.md``).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from prometheus_client import Counter, Gauge, Histogram, disable_created_metrics

# Request latency: a hold is a few ms when idle, a second or more under a release burst;
# the alert thresholds of docs/scaling.md (250 ms, 1 s) fall on bucket edges.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# A sweep round: from a few ms to the tens of seconds that would make it fall behind.
SWEEP_BUCKETS = (0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 15.0, 60.0)
# Waiting for a pooled connection: anything past a millisecond is a real wait.
POOL_WAIT_BUCKETS = (0.001, 0.005, 0.025, 0.1, 0.5, 1.0, 5.0, 30.0)
# Methods outside these are counted as "other": a caller must not be able to make series.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


@dataclass(frozen=True)
class Instruments:
    requests: Counter
    latency: Histogram
    refusals: Counter
    gate: Counter
    draws: Counter
    sweeps: Counter
    sweep_seconds: Histogram
    sweep_items: Counter
    last_sweep: Gauge
    pool_size: Gauge
    pool_in_use: Gauge
    pool_wait: Histogram
    pool_timeouts: Counter


def _make() -> Instruments:
    # The ``*_created`` series (one more per counter and histogram) are noise for alerting
    # and the multi-process files do not keep them either.
    disable_created_metrics()  # type: ignore[no-untyped-call]
    # registry=None: each /metrics registry (``http.py``) chooses what to collect; in
    # several processes that is the shared directory, never these objects.
    return Instruments(
        requests=Counter(
            "fairslot_http_requests",
            "HTTP requests answered, by method, route template and status.",
            ["method", "route", "status"],
            registry=None,
        ),
        latency=Histogram(
            "fairslot_http_request_duration_seconds",
            "Time from the request's arrival to its last byte sent, by route template.",
            ["method", "route"],
            buckets=LATENCY_BUCKETS,
            registry=None,
        ),
        refusals=Counter(
            "fairslot_refusals",
            "Refusals rendered by the error handlers, by stable error code and route.",
            ["code", "route"],
            registry=None,
        ),
        gate=Counter(
            "fairslot_gate_decisions",
            "The real-time gate's decisions on acting requests (allow / review / block).",
            ["action", "decision"],
            registry=None,
        ),
        draws=Counter(
            "fairslot_draws",
            "Release draws opened (commitment published) and run by the worker.",
            ["event"],
            registry=None,
        ),
        sweeps=Counter(
            "fairslot_sweeps",
            "Sweeper rounds, by outcome (ok / failed).",
            ["outcome"],
            registry=None,
        ),
        sweep_seconds=Histogram(
            "fairslot_sweep_duration_seconds",
            "Duration of one sweeper round (draws, daily jobs, holds, re-releases).",
            buckets=SWEEP_BUCKETS,
            registry=None,
        ),
        sweep_items=Counter(
            "fairslot_sweep_items",
            "What the sweeper settled, by kind.",
            ["kind"],
            registry=None,
        ),
        last_sweep=Gauge(
            "fairslot_sweep_last_success_timestamp_seconds",
            "Unix time of the last sweeper round that finished.",
            registry=None,
            multiprocess_mode="max",
        ),
        pool_size=Gauge(
            "fairslot_db_pool_size",
            "Connections the database pools may open (pool size plus overflow), "
            "summed over live processes.",
            registry=None,
            multiprocess_mode="livesum",
        ),
        pool_in_use=Gauge(
            "fairslot_db_pool_in_use",
            "Pooled database connections checked out now, summed over live processes.",
            registry=None,
            multiprocess_mode="livesum",
        ),
        pool_wait=Histogram(
            "fairslot_db_pool_wait_seconds",
            "Checkouts that waited for a pooled connection (or opened one): how long.",
            buckets=POOL_WAIT_BUCKETS,
            registry=None,
        ),
        pool_timeouts=Counter(
            "fairslot_db_pool_timeouts",
            "Checkouts that gave up after the pool timeout (answered 503 busy).",
            registry=None,
        ),
    )


_instruments: Instruments | None = None
_making = threading.Lock()


def instruments() -> Instruments:
    """This process's instruments, made on first use."""
    global _instruments
    if _instruments is None:
        with _making:
            if _instruments is None:
                _instruments = _make()
    return _instruments


def made() -> bool:
    """Whether this process has made its instruments yet (``multiproc.py`` must switch
    to the shared directory before that)."""
    return _instruments is not None


# The labelled children of the per-request series, found again with one dict look-up.
_request_series: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}


def request(*, method: str, route: str, status: int, seconds: float) -> None:
    """One answered HTTP request; ``route`` is the matched route's template."""
    key = (method, route, status)
    series = _request_series.get(key)
    if series is None:
        made_ = instruments()
        name = method if method in METHODS else "other"
        series = (
            made_.requests.labels(name, route, str(status)),
            made_.latency.labels(name, route),
        )
        _request_series[key] = series
    series[0].inc()
    series[1].observe(seconds)


def refusal(*, code: str, route: str) -> None:
    instruments().refusals.labels(code, route).inc()


def gate_decision(*, action: str, decision: str) -> None:
    """One decision of the real-time gate: ``allow``, ``review`` or ``block``."""
    instruments().gate.labels(action, decision).inc()


def draws(*, opened: int, run: int) -> None:
    made_ = instruments()
    if opened:
        made_.draws.labels("opened").inc(opened)
    if run:
        made_.draws.labels("run").inc(run)


def sweep(*, seconds: float, finished_at: float, items: dict[str, int]) -> None:
    """A sweeper round that finished at Unix time ``finished_at``."""
    made_ = instruments()
    made_.sweeps.labels("ok").inc()
    made_.sweep_seconds.observe(seconds)
    made_.last_sweep.set(finished_at)
    for kind, n in items.items():
        if n:
            made_.sweep_items.labels(kind).inc(n)


def sweep_failed(*, seconds: float) -> None:
    made_ = instruments()
    made_.sweeps.labels("failed").inc()
    made_.sweep_seconds.observe(seconds)


def pool_opened(*, capacity: int) -> None:
    """A connection pool of ``capacity`` connections was made in this process."""
    instruments().pool_size.inc(capacity)


def pool_checked_out(*, waited: float | None) -> None:
    """A connection left the pool; ``waited``: how long the checkout waited, when it had
    to (None when an idle connection was at hand)."""
    made_ = instruments()
    made_.pool_in_use.inc()
    if waited is not None:
        made_.pool_wait.observe(waited)


def pool_checked_in() -> None:
    instruments().pool_in_use.dec()


def pool_timed_out() -> None:
    instruments().pool_timeouts.inc()
