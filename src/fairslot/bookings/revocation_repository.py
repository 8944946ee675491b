"""The queries of ``revocation.py``: a blocked subject's upcoming bookings."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from fairslot.blacklist.matching import carrying
from fairslot.bookings.models import Booking
from fairslot.bookings.states import PENDING
from fairslot.patients.models import Patient
from fairslot.schedules.models import ClinicSession, Slot


@dataclass(frozen=True)
class Carried:
    """What an upcoming booking is known by, read without loading the booking."""

    booking_id: str
    patient_key: str
    phone_hash: str
    account_id: int
    device_key: str | None
    ip_key: str | None
    wifi_key: str | None
    payment_account_hash: str | None


def upcoming_identifiers(
    db: Session,
    *,
    now: datetime,
    patient_keys: Collection[str],
    phone_hashes: Collection[str],
    account_ids: Collection[int],
    payment_hashes: Collection[str],
    device_keys: Collection[str],
    network_keys: Collection[str],
) -> list[Carried]:
    """Held or confirmed bookings of slots not yet begun carrying one of the identifiers,
    looked up by key (``blacklist/matching.py::carrying``; columns only)."""
    wanted = carrying(
        Booking,
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
        select(
            Booking.id,
            Patient.id_hash,
            Patient.phone_hash,
            Booking.account_id,
            Booking.device_key,
            Booking.ip_key,
            Booking.wifi_key,
            Booking.payment_account_hash,
        )
        .join(Patient, Patient.id == Booking.patient_id)
        .join(Slot, Slot.id == Booking.slot_id)
        .where(Booking.status.in_(sorted(PENDING)), Slot.starts_at > now, or_(*wanted))
        .order_by(Booking.held_at, Booking.id)
    )
    return [Carried(*row) for row in rows]


def bookings_with_places(
    db: Session, booking_ids: Collection[str]
) -> list[tuple[Booking, Slot, ClinicSession]]:
    """The bookings with their slot and session, in slot order."""
    if not booking_ids:
        return []
    rows = db.execute(
        select(Booking, Slot, ClinicSession)
        .join(Slot, Slot.id == Booking.slot_id)
        .join(ClinicSession, ClinicSession.id == Booking.session_id)
        .where(Booking.id.in_(sorted(booking_ids)))
        .order_by(Slot.starts_at, Booking.id)
    )
    return [(booking, slot, session) for booking, slot, session in rows]
