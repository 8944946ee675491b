"""The open-loop schedule, as the wrk script keeps it (``bench/lua.py``, ``_PACING``).
Pure: the same arithmetic, for tests and for reading the results.

A closed-loop client sends its next request only when the last one is answered, so a
slow answer also delays the requests that would have queued behind it, and they are
never timed: the p99 looks better than what patients at a fixed arrival rate would see
("coordinated omission"). Open loop fixes the schedule in advance: ``rate`` requests a
second in all, each of ``connections`` connections sending every
``connections / rate`` seconds, thread ``n`` offset by ``n / connections`` of that
interval so the sends interleave. A request whose moment has passed goes out at once,
and its latency is counted from the moment it was meant to go out (as wrk2 does).
"""

from __future__ import annotations

from collections.abc import Iterator


def interval_s(*, rate: float, connections: int) -> float:
    """Seconds between two sends of one connection."""
    if rate <= 0 or connections < 1:
        raise ValueError("an open loop needs a positive rate and at least one connection")
    return connections / rate


def schedule(*, rate: float, connections: int, thread: int, start: float) -> Iterator[float]:
    """The intended send times of thread ``thread`` (1-based, as wrk numbers them),
    whose first ``delay`` call came at ``start``."""
    step = interval_s(rate=rate, connections=connections)
    at = start + step * (thread - 1) / connections
    while True:
        yield at
        at += step


def delay_ms(*, now: float, intended: float) -> int:
    """How long wrk waits before sending: until the intended time, never negative."""
    return max(0, int((intended - now) * 1000))


def replay(*, intended: list[float], service_s: list[float]) -> list[float]:
    """Latencies (s) one connection records when request ``k`` is meant to go out at
    ``intended[k]`` and takes ``service_s[k]`` to answer: it goes out at its intended
    time or when the previous answer came, whichever is later, and is timed from its
    intended time."""
    latencies = []
    free_at = float("-inf")
    for meant, service in zip(intended, service_s, strict=True):
        sent = max(meant, free_at)
        free_at = sent + service
        latencies.append(free_at - meant)
    return latencies
