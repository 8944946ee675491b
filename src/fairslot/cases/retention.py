"""What the request-context retention must keep: the identifiers every case not yet closed
still shows (``audit/retention.py`` reduces every other expired record). Read here, in the
review queue's domain, because only a case's evidence knows what its page shows."""

from __future__ import annotations

from sqlalchemy.orm import Session

from fairslot.audit import repository as audit_repo
from fairslot.cases import evidence
from fairslot.cases.candidates import account_id_of, ring_members
from fairslot.crypto import Protector


def held_by_open_cases(db: Session, *, protector: Protector) -> tuple[audit_repo.Held, int]:
    """The identifiers of every case not yet closed, as its page reads its requests."""
    accounts: set[int] = set()
    devices: set[str] = set()
    networks: set[str] = set()
    patients: set[str] = set()
    cases = audit_repo.unclosed_cases(db)
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
    held = audit_repo.Held(
        account_ids=frozenset(accounts),
        device_keys=frozenset(devices),
        network_keys=frozenset(networks),
        patient_keys=frozenset(patients),
    )
    return held, len(cases)
