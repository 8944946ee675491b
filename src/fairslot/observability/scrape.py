"""Figures the database already knows, read when Prometheus scrapes rather than counted on
the hot path: tonight's release fill and the sweeper's lag.

Why at scrape time: a counter at the claim would cost every hold a few microseconds and
reset with each worker, while the slots' own states are the truth and survive restarts;
one grouped read every scrape interval costs the database less than one hold. The answer
is kept ``CACHE_SECONDS`` so that two Prometheus servers (or a retry) read once, and each
statement is bounded (``repository.bound_statement_time``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector
from sqlalchemy.orm import Session, sessionmaker

from fairslot.clock import Clock
from fairslot.observability import repository as repo

log = logging.getLogger("fairslot.observability")

CACHE_SECONDS = 5.0
STATEMENT_TIMEOUT_MS = 2000
# "Tonight's release": sessions whose release instant is within this long before now.
RELEASE_WINDOW = timedelta(hours=24)


@dataclass(frozen=True)
class Reading:
    fill: list[repo.Fill]
    oldest: repo.OldestDue
    now: datetime


class DatabaseFigures(Collector):
    """A collector that reads the database (read-only) at most once per ``CACHE_SECONDS``."""

    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        clock: Clock,
        cache_seconds: float | None = None,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._cache_seconds = cache_seconds
        self._lock = threading.Lock()
        self._cached: tuple[float, Reading | None] | None = None

    def read(self) -> Reading | None:
        with self._lock:
            cached = self._cached
            keep = CACHE_SECONDS if self._cache_seconds is None else self._cache_seconds
            if cached is not None and time.monotonic() - cached[0] < keep:
                return cached[1]
            reading = self._read_now()
            self._cached = (time.monotonic(), reading)
            return reading

    def _read_now(self) -> Reading | None:
        now = self._clock.now()
        db = self._sessions()
        try:
            repo.bound_statement_time(db, milliseconds=STATEMENT_TIMEOUT_MS)
            return Reading(
                fill=repo.release_fill(db, since=now - RELEASE_WINDOW, now=now),
                oldest=repo.oldest_due(db, now=now),
                now=now,
            )
        except Exception:
            # A scrape still answers (with database_up 0) when the database does not.
            log.warning("metrics: the database figures could not be read", exc_info=True)
            return None
        finally:
            db.rollback()  # read-only: nothing to keep
            db.close()

    def collect(self) -> Iterator[Metric]:
        reading = self.read()
        up = GaugeMetricFamily(
            "fairslot_scrape_database_up",
            "1 when this scrape could read the database's figures, else 0.",
        )
        up.add_metric([], 1.0 if reading is not None else 0.0)
        yield up
        if reading is None:
            return
        yield from _fill(reading)
        yield _lag(reading)


def _fill(reading: Reading) -> Iterator[Metric]:
    families = {
        "released": "Slots of sessions released in the last 24 h (withdrawn ones excepted).",
        "free": "Of those, open or cooling now.",
        "held": "Of those, held now (awaiting payment).",
        "taken": "Of those, booked, attended or missed: taken by a patient.",
    }
    for field, help_text in families.items():
        family = GaugeMetricFamily(
            f"fairslot_release_slots_{field}", help_text, labels=["hospital"]
        )
        for fill in reading.fill:
            family.add_metric([fill.hospital], float(getattr(fill, field)))
        yield family


def _lag(reading: Reading) -> Metric:
    family = GaugeMetricFamily(
        "fairslot_sweeper_lag_seconds",
        "How long the oldest work due to the sweeper has waited (0: nothing overdue).",
        labels=["work"],
    )
    oldest = reading.oldest
    for work, due in (
        ("hold_expiry", oldest.hold_expiry),
        ("re_release", oldest.re_release),
        ("draw", oldest.draw),
    ):
        lag = max(0.0, (reading.now - due).total_seconds()) if due is not None else 0.0
        family.add_metric([work], lag)
    return family
