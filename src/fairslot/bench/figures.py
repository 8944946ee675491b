"""The figures of one ``bench release`` run and its ``--json`` document. Pure: no I/O.

Every phase is measured by the same generator (wrk, one connection per thread, the same
connection count), against the same server settings:

* the ceiling — ``GET /healthz`` of the product's server: HTTP and the framework, no
  database (``healthz``);
* the anchor — the hand-written claim served by the bench itself (``anchor_claim``);
* each product endpoint in a phase of its own — successful holds (by slot and by
  session), confirms of those holds, availability polls, holds on sold-out sessions;
* the release mix (``mix:*``) and the same mix open-loop at a fixed rate.

An endpoint's *throughput* counts the answers with the outcome the phase is about (a
201 hold, a 200 confirm or poll, a 409 refusal of a sold-out session, a won claim) per
second of the phase's active window; its latencies cover all its answers.

Ratios: hold and confirm are writes, compared with the anchor claim (a write); the
availability poll and the sold-out refusal are reads, compared with the ceiling.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from fairslot.bench.stats import (
    RESULT_KEYS,
    Sample,
    Summary,
    active_seconds,
    is_server_error,
    outcome_label,
    percentile,
    ratio,
)

# Issue 14's keys, after issue 5's.
NEW_KEYS = (
    "anchor_claim_rps",
    "ceiling_rps",
    "ratio_to_anchor",
    "ratio_to_ceiling",
    "generator_cpu_share",
    "open_loop_rate",
    "open_loop_p99_ms",
    "per_endpoint",
)
WRITES = ("hold", "confirm")  # compared with the anchor claim
READS = ("availability", "sold_out", "sold_out_again")  # compared with the ceiling
SOLD_OUT_CODES = frozenset({"session_full", "slot_taken"})  # CAPACITY_REFUSALS
# A figure is a ceiling only if the generator could have gone this many times faster.
GENERATOR_HEADROOM = 2.0


def ok_for(name: str) -> Callable[[Sample], bool]:
    """The outcome an endpoint's phase measures."""
    if name in ("hold", "hold_by_slot", "hold_by_session"):
        return lambda s: s.status == 201
    if name in ("sold_out", "sold_out_again"):
        return lambda s: s.status == 409 and (s.code or "") in SOLD_OUT_CODES
    if name == "anchor_claim":
        return lambda s: s.status == 201
    return lambda s: 200 <= s.status < 300


@dataclass(frozen=True)
class Figure:
    name: str
    phase: str
    requests: int
    ok: int
    seconds: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    outcomes: dict[str, int] = field(default_factory=dict)

    @property
    def rps(self) -> float:
        return ratio(self.requests, self.seconds)

    @property
    def ok_rps(self) -> float:
        return ratio(self.ok, self.seconds)


def figure(
    name: str, *, phase: str, samples: Sequence[Sample], seconds: float | None = None
) -> Figure:
    """``samples``: this endpoint's answers; ``seconds``: the phase's active window
    (default: these samples' own)."""
    latencies = [s.ms for s in samples]
    ok = ok_for(name)
    return Figure(
        name=name,
        phase=phase,
        requests=len(samples),
        ok=sum(1 for s in samples if ok(s)),
        seconds=active_seconds(samples) if seconds is None else seconds,
        p50_ms=percentile(latencies, 50),
        p95_ms=percentile(latencies, 95),
        p99_ms=percentile(latencies, 99),
        max_ms=max(latencies, default=0.0),
        outcomes=dict(Counter(outcome_label(s) for s in samples).most_common()),
    )


# The sold-out phase's mark on a refusal asked once every identity of its connection had
# been refused before (bench/lua.py); "first" otherwise.
AGAIN = "again"
# The shortest window of repeated refusals worth a figure of its own.
AGAIN_MIN_S = 1.0


def again_window(samples: Sequence[Sample]) -> tuple[list[Sample], float] | None:
    """The sold-out phase after its last first refusal: the answers to requests sent
    once every caller had been refused before on the same connection — and so by the same
    server worker, whose sold-out lane (``api/sold_out_lane.py``) may answer a caller it
    screened — with that window's seconds. A caller's first refusal in a worker goes
    through the whole gate. None: no such window of :data:`AGAIN_MIN_S` or more."""
    firsts = [s.end_s for s in samples if s.extra != AGAIN]
    if not firsts:
        return None
    start = max(firsts)
    window = [s for s in samples if s.extra == AGAIN and s.start_s >= start]
    seconds = max((s.end_s for s in window), default=start) - start
    if seconds < AGAIN_MIN_S:
        return None
    return window, seconds


def phase_figures(phase: str, samples: Sequence[Sample], *, prefix: str = "") -> list[Figure]:
    """One figure per endpoint seen in a phase, all over the phase's window."""
    window = active_seconds(samples)
    by_endpoint: dict[str, list[Sample]] = {}
    for sample in samples:
        by_endpoint.setdefault(sample.endpoint, []).append(sample)
    return [
        figure(prefix + name, phase=phase, samples=group, seconds=window)
        for name, group in by_endpoint.items()
    ]


@dataclass(frozen=True)
class Generator:
    """What the generator could do: its rate against the trivial responder, and its CPU
    share in each phase."""

    trivial_rps: float
    cpu_share: Mapping[str, float]

    def bound(self, rps: float) -> bool:
        """Could the generator have been the limit of a phase that made ``rps``?"""
        return rps * GENERATOR_HEADROOM > self.trivial_rps


@dataclass(frozen=True)
class OpenLoop:
    target_rps: float
    achieved_rps: float
    p50_ms: float
    p99_ms: float
    requests: int


def server_errors(samples: Iterable[Sample]) -> tuple[int, int]:
    """5xx and missing answers; and, of them, 503s (``busy``)."""
    every = [s for s in samples if is_server_error(s)]
    return len(every), sum(1 for s in every if s.status == 503)


def result_document(
    *,
    backend: str,
    workers: int,
    mix: Summary,
    oversold: int,
    double_booked: int,
    server_errors: int,
    raw_limit_rps: float,
    figures: Sequence[Figure],
    generator: Generator,
    open_loop: OpenLoop | None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The ``--json`` document: issue 5's :data:`RESULT_KEYS` (throughput, p50 and p99
    of the release mix), then :data:`NEW_KEYS`, then ``extra``."""
    by_name = {f.name: f for f in figures}
    ceiling = by_name.get("healthz")
    anchor = by_name.get("anchor_claim")
    ceiling_rps = ceiling.ok_rps if ceiling else 0.0
    anchor_rps = anchor.ok_rps if anchor else 0.0
    document: dict[str, Any] = {
        "backend": backend,
        "workers": workers,
        "requests": mix.requests,
        "throughput_rps": round(mix.throughput_rps, 1),
        "p50_ms": round(mix.p50_ms, 1),
        "p99_ms": round(mix.p99_ms, 1),
        "oversold": oversold,
        "double_booked": double_booked,
        "server_errors": server_errors,
        "raw_limit_rps": round(raw_limit_rps, 1),
        "ratio_to_raw": round(ratio(mix.throughput_rps, raw_limit_rps), 3),
        "anchor_claim_rps": round(anchor_rps, 1),
        "ceiling_rps": round(ceiling_rps, 1),
        "ratio_to_anchor": {
            name: round(ratio(by_name[name].ok_rps, anchor_rps), 3)
            for name in WRITES
            if name in by_name
        },
        "ratio_to_ceiling": {
            name: round(ratio(by_name[name].ok_rps, ceiling_rps), 3)
            for name in READS
            if name in by_name
        },
        "generator_cpu_share": {k: round(v, 3) for k, v in generator.cpu_share.items()},
        "open_loop_rate": round(open_loop.target_rps, 1) if open_loop else None,
        "open_loop_p99_ms": round(open_loop.p99_ms, 1) if open_loop else None,
        "per_endpoint": {f.name: endpoint_document(f, generator) for f in figures},
    }
    assert tuple(document) == (*RESULT_KEYS, *NEW_KEYS)
    document.update(extra or {})
    return document


def endpoint_document(f: Figure, generator: Generator) -> dict[str, Any]:
    return {
        "phase": f.phase,
        "requests": f.requests,
        "throughput_rps": round(f.ok_rps, 1),
        "answers_rps": round(f.rps, 1),
        "p50_ms": round(f.p50_ms, 1),
        "p95_ms": round(f.p95_ms, 1),
        "p99_ms": round(f.p99_ms, 1),
        "max_ms": round(f.max_ms, 1),
        "generator_bound": generator.bound(f.rps),
        "outcomes": f.outcomes,
    }
