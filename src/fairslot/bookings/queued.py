"""Booking a returned slot for a patient who queued for it, on their behalf.

Two queues are offered a slot that comes back before anyone else: what a draw owes
(``allocation/owed.py``), then the session's waitlist (``waitlist/placement.py``). Both
book it the same way, with no request of the patient's in hand: the patient's lock, the
binding, the one booking function with the identifiers the entry was known by screened
against the blacklist, the entry marked in the same savepoint, the channel told. What a
refusal does to the entry is the queue's own (the waitlist closes it, a debt stays owed).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.orm import Session

from fairslot.blacklist import gate as blacklist_gate
from fairslot.bookings import repository as booking_repo
from fairslot.bookings.booking import Preauthorised, book_slot
from fairslot.bookings.models import Booking
from fairslot.bookings.policy import BookingPolicy
from fairslot.context import RequestContext
from fairslot.crypto import Protector
from fairslot.errors import DomainError
from fairslot.notifications import service as notify
from fairslot.patients import repository as patients_repo
from fairslot.patients.models import Patient
from fairslot.schedules.models import ClinicSession, Slot

# Why an entry was not booked (else the code of the booking rule that refused it).
NOT_BOUND = "patient_not_bound"  # the patient is gone or no longer bound to the account
BLACKLISTED = "blacklisted"  # the patient or an identifier of the entry is blocked now
ENTRY_CHANGED = "entry_changed"  # the entry left its queue meanwhile: the booking undone
SLOT_TAKEN = "slot_taken"  # the claim lost: the slot is not this entry's to refuse


class QueuedEntry(Protocol):
    """A queue's entry (a waitlist entry, a draw's intent): who it books for and what it
    was known by when it queued."""

    @property
    def patient_id(self) -> int: ...
    @property
    def account_id(self) -> int: ...
    @property
    def channel_id(self) -> int: ...
    @property
    def device_key(self) -> str | None: ...
    @property
    def ip_key(self) -> str | None: ...
    @property
    def ip_label(self) -> str | None: ...
    @property
    def wifi_key(self) -> str | None: ...
    @property
    def payment_account_hash(self) -> str | None: ...


@dataclass(frozen=True)
class Notice:
    """What the channel is told when the entry is booked."""

    kind: str
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class NotPlaced:
    reason: str  # one of the reasons above, or the refusing rule's code


def identifiers(entry: QueuedEntry, *, patient: Patient) -> blacklist_gate.Identifiers:
    """What a queued entry is known by, as the gate reads a request."""
    return blacklist_gate.Identifiers(
        patient_key=patient.id_hash,
        phone_hash=patient.phone_hash,
        account_id=entry.account_id,
        device_key=entry.device_key,
        ip_key=entry.ip_key,
        wifi_key=entry.wifi_key,
        payment_account_hash=entry.payment_account_hash,
    )


class _EntryChanged(Exception):
    """Rolls the savepoint of one attempt back."""


def book_queued(
    db: Session,
    *,
    entry: QueuedEntry,
    actor: str,
    slot: Slot,
    session: ClinicSession,
    now: datetime,
    policy: BookingPolicy,
    rng: random.Random,
    preauthorised: Preauthorised | None,
    protector: Protector | None,
    mark_booked: Callable[[Booking], bool],
    notice: Notice,
) -> Booking | NotPlaced:
    """Book the (OPEN, just re-released) ``slot`` for ``entry``'s patient, then
    ``mark_booked`` (the queue's compare-and-set; False: the entry changed meanwhile)
    in the same savepoint, and tell the channel ``notice``. A refusal leaves the slot as
    it was (OPEN) for the queue's next entry."""
    # The same per-patient serialisation as a hold, taken before the binding is read.
    booking_repo.lock_patient(db, patient_id=entry.patient_id)
    patient = patients_repo.get_patient(db, entry.patient_id)
    if patient is None or (
        patients_repo.get_binding(db, account_id=entry.account_id, patient_id=entry.patient_id)
        is None
    ):
        return NotPlaced(NOT_BOUND)
    ctx = RequestContext(
        actor=actor,
        channel_id=entry.channel_id,
        account_id=entry.account_id,
        device_key=entry.device_key,
        ip_key=entry.ip_key,
        ip_label=entry.ip_label,
        wifi_key=entry.wifi_key,
        payment_account_hash=entry.payment_account_hash,
    )
    try:
        # One savepoint for the whole booking: if anything below refuses, the slot is
        # left as it was (OPEN) for the next entry.
        with db.begin_nested():
            # The one booking function, as a hold books: every booking rule, the claim,
            # the row, its ledger event, the confirmation of a pre-authorised payment
            # and the hospital's feed. The gate saw this patient when they queued; a
            # block since then must stop the platform booking them on its own (issue
            # 13, item 8), so the entry's identifiers are screened.
            booking = book_slot(
                db,
                patient=patient,
                account_id=entry.account_id,
                slot_id=slot.id,
                session=session,
                now=now,
                ctx=ctx,
                policy=policy,
                rng=rng,
                preauthorised=preauthorised,
                screen=identifiers(entry, patient=patient),
                protector=protector,
            )
            if not mark_booked(booking):
                # The entry left its queue in a transaction that committed after our
                # read: undo this booking and offer the slot to the next entry.
                raise _EntryChanged
    except _EntryChanged:
        return NotPlaced(ENTRY_CHANGED)
    except blacklist_gate.RequestBlocked:
        return NotPlaced(BLACKLISTED)
    except DomainError as refusal:
        # A booking rule refuses the patient now, the claim lost (``slot_taken``), or a
        # unique index saw a booking the checks could not (``booking_conflict``).
        return NotPlaced(refusal.code)
    notify.to_channel(
        db,
        channel_id=entry.channel_id,
        kind=notice.kind,
        at=now,
        account_id=entry.account_id,
        booking_id=booking.id,
        payload=notice.payload,
    )
    return booking
