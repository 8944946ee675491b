"""What a benchmark run measured, summarised. Pure: no I/O.

Latencies are in milliseconds; percentiles interpolate linearly between the two nearest
ranks (numpy's default), so a p99 of a few hundred samples is not just the maximum.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

# The keys of ``--json FILE`` since issue 5, in order: a reader may rely on these
# (``bench/figures.py`` adds issue 14's after them).
RESULT_KEYS = (
    "backend",
    "workers",
    "requests",
    "throughput_rps",
    "p50_ms",
    "p99_ms",
    "oversold",
    "double_booked",
    "server_errors",
    "raw_limit_rps",
    "ratio_to_raw",
)


@dataclass(frozen=True)
class Sample:
    """One request as the client saw it. ``status`` 0: no HTTP answer at all (the
    connection failed or timed out), which counts as a server error."""

    endpoint: str
    status: int
    ms: float
    code: str | None = None
    # When the answer came (monotonic seconds) and what the generator kept of it (a
    # booking id); 0.0 / None where not recorded.
    end_s: float = 0.0
    extra: str | None = None

    @property
    def start_s(self) -> float:
        """When it was sent (open loop: when it was meant to be sent)."""
        return self.end_s - self.ms / 1000


@dataclass(frozen=True)
class EndpointStats:
    endpoint: str
    count: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    # "201", "409 slot_taken", ...: every answer by status and, for refusals, its code.
    outcomes: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Summary:
    requests: int
    seconds: float
    throughput_rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    server_errors: int
    endpoints: tuple[EndpointStats, ...]


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0..100) of ``values`` (need not be sorted); 0.0 if empty."""
    if not 0 <= q <= 100:
        raise ValueError("a percentile is between 0 and 100")
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def outcome_label(sample: Sample) -> str:
    if sample.status == 0:
        return f"no answer {sample.code or ''}".strip()
    if sample.status >= 400 and sample.code:
        return f"{sample.status} {sample.code}"
    return str(sample.status)


def is_server_error(sample: Sample) -> bool:
    return sample.status == 0 or sample.status >= 500


def endpoint_stats(endpoint: str, samples: Sequence[Sample]) -> EndpointStats:
    latencies = [s.ms for s in samples]
    outcomes = Counter(outcome_label(s) for s in samples)
    return EndpointStats(
        endpoint=endpoint,
        count=len(samples),
        p50_ms=percentile(latencies, 50),
        p95_ms=percentile(latencies, 95),
        p99_ms=percentile(latencies, 99),
        max_ms=max(latencies, default=0.0),
        outcomes=dict(outcomes.most_common()),
    )


def summarise(samples: Iterable[Sample], *, seconds: float) -> Summary:
    """Throughput over ``seconds`` (from the release instant to the last answer) and
    latency percentiles, overall and per endpoint (endpoints in order of first use)."""
    every = list(samples)
    by_endpoint: dict[str, list[Sample]] = {}
    for sample in every:
        by_endpoint.setdefault(sample.endpoint, []).append(sample)
    latencies = [s.ms for s in every]
    return Summary(
        requests=len(every),
        seconds=seconds,
        throughput_rps=len(every) / seconds if seconds > 0 else 0.0,
        p50_ms=percentile(latencies, 50),
        p95_ms=percentile(latencies, 95),
        p99_ms=percentile(latencies, 99),
        server_errors=sum(1 for s in every if is_server_error(s)),
        endpoints=tuple(endpoint_stats(name, group) for name, group in by_endpoint.items()),
    )


def ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator > 0 else 0.0


def active_seconds(samples: Iterable[Sample]) -> float:
    """From the first send (open loop: the first intended send) to the last answer."""
    every = list(samples)
    if not every:
        return 0.0
    return max(s.end_s for s in every) - min(s.start_s for s in every)
