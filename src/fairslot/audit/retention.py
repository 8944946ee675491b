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
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from fairslot.audit import repository as repo
from fairslot.cases import evidence
from fairslot.cases.candidates import account_id_of, ring_members
from fairslot.crypto import Protector

BATCH = 2000  # records per transaction: short write locks while the server runs


@dataclass(frozen=True)
class RetentionReport:
    cutoff: datetime
    reduced: int  # records whose request context was cleared
    held_cases: int  # open cases whose records were kept


def cutoff(*, now: datetime, days: int) -> datetime:
    return now - timedelta(days=days)


def held_by_open_cases(db: Session, *, protector: Protector) -> tuple[repo.Held, int]:
    """The identifiers of every case not yet closed, as its page reads its requests."""
    accounts: set[int] = set()
    devices: set[str] = set()
    networks: set[str] = set()
    patients: set[str] = set()
    cases = repo.unclosed_cases(db)
    for case in cases:
        gathered = evidence.gather(db, case=case, protector=protector)
        for row in gathered.rows:
            booking = row[0]
            accounts.add(booking.account_id)
            devices.update(k for k in (booking.device_key,) if k)
            networks.update(k for k in (booking.ip_key, booking.wifi_key) if k)
        accounts.update(a.account_id for a in gathered.facts.accounts)
        patients.update(p.id_hash for p in gathered.people.values())
        named = [(case.subject_kind, case.subject_key)]
        for alert in gathered.alerts:
            named.append((alert.entity_kind, alert.entity_key))
            named.extend(ring_members(alert.details or {}))
        for kind, key in named:
            if kind == "device":
                devices.add(key)
            elif kind == "network":
                networks.add(key)
            elif kind == "patient":
                patients.add(key)
            elif kind == "account" and (account_id := account_id_of(key)) is not None:
                accounts.add(account_id)
    held = repo.Held(
        account_ids=frozenset(accounts),
        device_keys=frozenset(devices),
        network_keys=frozenset(networks),
        patient_keys=frozenset(patients),
    )
    return held, len(cases)


def reduce_batch(db: Session, *, before: datetime, held: repo.Held, limit: int = BATCH) -> int:
    """Clear the context of up to ``limit`` expired records not held; how many it did.
    Idempotent: a reduced record carries no context and is never picked again."""
    return repo.strip_context(db, repo.expired_ids(db, before=before, held=held, limit=limit))
