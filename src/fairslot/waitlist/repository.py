"""Every waitlist query. Status changes are compare-and-set, like the booking side's:
they name the status they expect and report whether exactly one row changed."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from fairslot.blacklist.matching import carrying
from fairslot.patients.models import Patient
from fairslot.schedules.models import ClinicSession
from fairslot.schedules.states import SessionStatus
from fairslot.waitlist.models import WaitlistEntry, WaitStatus


def get_entry(db: Session, entry_id: str) -> WaitlistEntry | None:
    return db.get(WaitlistEntry, entry_id, populate_existing=True)


def waiting_entry(db: Session, *, session_id: int, patient_id: int) -> WaitlistEntry | None:
    return db.scalars(
        select(WaitlistEntry).where(
            WaitlistEntry.session_id == session_id,
            WaitlistEntry.patient_id == patient_id,
            WaitlistEntry.status == WaitStatus.WAITING,
        )
    ).one_or_none()


def waiting_for_session(db: Session, session_id: int) -> list[WaitlistEntry]:
    return list(
        db.scalars(
            select(WaitlistEntry)
            .where(
                WaitlistEntry.session_id == session_id,
                WaitlistEntry.status == WaitStatus.WAITING,
            )
            .order_by(WaitlistEntry.created_at, WaitlistEntry.id)
        )
    )


def stale_waiting(db: Session, *, now: datetime, limit: int = 500) -> list[WaitlistEntry]:
    """Waiting entries of sessions that closed or were withdrawn: no slot can come now."""
    return list(
        db.scalars(
            select(WaitlistEntry)
            .join(ClinicSession, ClinicSession.id == WaitlistEntry.session_id)
            .where(
                WaitlistEntry.status == WaitStatus.WAITING,
                or_(ClinicSession.status != SessionStatus.ACTIVE, ClinicSession.closes_at <= now),
            )
            .order_by(WaitlistEntry.created_at)
            .limit(limit)
        )
    )


def move_entry(
    db: Session, *, entry_id: str, expected: WaitStatus, target: WaitStatus, **values: Any
) -> bool:
    result = db.execute(
        update(WaitlistEntry)
        .where(WaitlistEntry.id == entry_id, WaitlistEntry.status == expected)
        .values(status=target, **values)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount) == 1  # type: ignore[attr-defined]


def waiting_with_identifiers(
    db: Session,
    *,
    patient_keys: Collection[str],
    phone_hashes: Collection[str],
    account_ids: Collection[int],
    payment_hashes: Collection[str],
    device_keys: Collection[str],
    network_keys: Collection[str],
) -> list[tuple[WaitlistEntry, Patient]]:
    """Waiting entries carrying one of the given identifiers, with their patient, looked up
    by key (``blacklist/matching.py::carrying``)."""
    wanted = carrying(
        WaitlistEntry,
        patient_keys=patient_keys,
        phone_hashes=phone_hashes,
        account_ids=account_ids,
        payment_hashes=payment_hashes,
        device_keys=device_keys,
        network_keys=network_keys,
    )
    if not wanted:
        return []
    rows = db.execute(
        select(WaitlistEntry, Patient)
        .join(Patient, Patient.id == WaitlistEntry.patient_id)
        .where(WaitlistEntry.status == WaitStatus.WAITING, or_(*wanted))
        .order_by(WaitlistEntry.created_at, WaitlistEntry.id)
    )
    return [(entry, patient) for entry, patient in rows]
