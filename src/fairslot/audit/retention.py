"""Request-context retention: after ``FAIRSLOT_REQUEST_CONTEXT_RETENTION_DAYS`` a request
record loses what it carried about where the request came from.

Reduced, not deleted: the device, address, Wi-Fi, user agent and payment columns are
cleared, while when, what, for which account and patient, the outcome and the gate's
decision stay, because the quality metrics (``metrics/repository.py``: activity and
booking attempts per period) count them over periods longer than the retention, and a
count must not change because time passed. What remains links a record to an account,
never to a device or a place.

A record an open case still shows keeps its context: every record of an identifier the
case holds (its bookings' accounts and devices, its people, the identifiers its alerts
name), whatever its age, until the case is closed; the next run after that reduces it.
Which identifiers those are is the review queue's to say
(``cases/retention.py::held_by_open_cases``, above this domain); they come in as ``held``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from fairslot.audit import repository as repo

BATCH = 2000  # records per transaction: short write locks while the server runs


@dataclass(frozen=True)
class RetentionReport:
    cutoff: datetime
    reduced: int  # records whose request context was cleared
    held_cases: int  # open cases whose records were kept


def cutoff(*, now: datetime, days: int) -> datetime:
    return now - timedelta(days=days)


def reduce_batch(db: Session, *, before: datetime, held: repo.Held, limit: int = BATCH) -> int:
    """Clear the context of up to ``limit`` expired records not held; how many it did.
    Idempotent: a reduced record carries no context and is never picked again."""
    return repo.strip_context(db, repo.expired_ids(db, before=before, held=held, limit=limit))
