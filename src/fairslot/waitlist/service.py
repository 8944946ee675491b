"""Waitlist (候补) use cases for channels: join a full session's waitlist, look, leave.

Booking a returned slot for a waiting patient is in ``placement.py`` (the hold path and
the worker's sweep call it through ``transitions.settle_slot``).
"""

from __future__ import annotations

import random
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from fairslot.availability import repository as availability
from fairslot.blacklist.gate import BlockedKeys
from fairslot.blacklist.models import Scope
from fairslot.bookings import repository as booking_repo
from fairslot.bookings import service as bookings
from fairslot.bookings import transitions
from fairslot.bookings.errors import SlotUnavailable
from fairslot.bookings.policy import BookingPolicy
from fairslot.context import RequestContext
from fairslot.crypto import Protector, mask_account
from fairslot.errors import InvalidInput, NotFound
from fairslot.patients.service import get_account, require_binding
from fairslot.schedules.models import ClinicSession
from fairslot.schedules.states import SlotState
from fairslot.waitlist import placement
from fairslot.waitlist import repository as repo
from fairslot.waitlist.errors import (
    NotYourWaitlistEntry,
    SessionNotFull,
    WaitlistConflict,
    WaitlistDisabled,
    WaitlistEntryNotFound,
)
from fairslot.waitlist.models import WaitlistEntry, WaitStatus
from fairslot.waitlist.schemas import WaitlistEntryView


def join(
    db: Session,
    *,
    account_id: int,
    patient_id: int,
    session_id: int,
    payment_account: str,
    payment_reference: str,
    now: datetime,
    ctx: RequestContext,
    policy: BookingPolicy,
    rng: random.Random,
    protector: Protector,
) -> WaitlistEntry:
    """Put a bound patient on a full session's waitlist, with a payment pre-authorisation.

    Idempotent: a patient already waiting for the session gets the existing entry back.
    """
    if not policy.waitlist_enabled:
        raise WaitlistDisabled(
            "This platform keeps no waitlists; look for another session or try again later.",
            detail_zh="本平台未开放候补，请选择其他时段或稍后再试。",
        )
    payment_account, payment_reference = payment_account.strip(), payment_reference.strip()
    if not payment_account or not payment_reference:
        raise InvalidInput(
            "A payment account and a payment reference are required.", code="payment_required"
        )
    # The same per-patient serialisation as a hold: two parallel joins of one patient
    # see each other, and the limits are counted on committed data.
    booking_repo.lock_patient(db, patient_id=patient_id)
    _, patient = require_binding(
        db, account_id=account_id, patient_id=patient_id, channel_id=ctx.channel_id
    )
    existing = repo.waiting_entry(db, session_id=session_id, patient_id=patient_id)
    if existing is not None:
        return _same_account(existing, account_id=account_id)

    session = availability.released_session(db, session_id=session_id, now=now)
    if session is None:
        raise NotFound("No such session is open for booking.", code="session_not_found")
    if now >= session.closes_at:
        raise SlotUnavailable(
            "Booking for this session has closed.",
            code="booking_closed",
            detail_zh="该时段已停止预约。",
        )
    _settle_returned_slots(
        db, session=session, now=now, policy=policy, rng=rng, protector=protector
    )
    if availability.free_slots(
        db, session_ids=[session.id], now=now, channel_id=ctx.channel_id or 0
    ):
        raise SessionNotFull(
            "This session still has a free slot; hold it instead of joining the waitlist.",
            detail_zh="该时段仍有号源，请直接预约。",
        )
    bookings.check_rules(db, patient=patient, session=session, now=now, policy=policy)

    entry = WaitlistEntry(
        session_id=session.id,
        patient_id=patient.id,
        account_id=account_id,
        channel_id=ctx.channel_id or 0,
        status=WaitStatus.WAITING,
        payment_account_hash=protector.keyed_hash(payment_account, purpose="payment_account"),
        payment_account_masked=mask_account(payment_account),
        payment_reference=payment_reference,
        device_key=ctx.device_key,
        ip_key=ctx.ip_key,
        ip_label=ctx.ip_label,
        wifi_key=ctx.wifi_key,
        created_at=now,
    )
    try:
        with db.begin_nested():
            db.add(entry)
            db.flush()
    except IntegrityError as exc:
        # The partial unique index (one waiting entry per patient per session) saw a
        # parallel join the patient lock did not serialise: answer with that entry.
        raced = repo.waiting_entry(db, session_id=session_id, patient_id=patient_id)
        if raced is None:
            raise WaitlistConflict("The waitlist changed; try again.") from exc
        return _same_account(raced, account_id=account_id)
    return entry


def get_entry(db: Session, *, entry_id: str, account_id: int, channel_id: int) -> WaitlistEntry:
    get_account(db, account_id=account_id, channel_id=channel_id)
    entry = repo.get_entry(db, entry_id)
    if entry is None:
        raise WaitlistEntryNotFound("No waitlist entry with this id.")
    if entry.account_id != account_id:
        raise NotYourWaitlistEntry("This waitlist entry was made by another account.")
    return entry


def leave(
    db: Session, *, entry_id: str, account_id: int, channel_id: int, now: datetime
) -> WaitlistEntry:
    """Leave the waitlist; the pre-authorisation is released. Leaving twice is answered,
    not refused; an entry already booked is cancelled through its booking."""
    entry = get_entry(db, entry_id=entry_id, account_id=account_id, channel_id=channel_id)
    if entry.status == WaitStatus.CANCELLED:
        return entry
    if entry.status != WaitStatus.WAITING or not repo.move_entry(
        db,
        entry_id=entry.id,
        expected=WaitStatus.WAITING,
        target=WaitStatus.CANCELLED,
        decided_at=now,
    ):
        current = repo.get_entry(db, entry.id) or entry
        raise WaitlistConflict(
            f"This waitlist entry is {current.status.value}; "
            + (
                "cancel its booking instead."
                if current.status == WaitStatus.BOOKED
                else "there is nothing to leave."
            ),
            code="waitlist_entry_not_waiting",
        )
    return repo.get_entry(db, entry.id) or entry


def close_blocked(db: Session, *, blocked: BlockedKeys, now: datetime, protector: Protector) -> int:
    """A block was just recorded: close every waiting entry carrying one of its keys
    (reason ``blacklisted``, the channel told), so the platform never books the blocked
    subject from a waitlist. Returns how many were closed."""
    candidates = repo.waiting_with_identifiers(
        db,
        patient_keys=blocked.of(Scope.PATIENT),
        phone_hashes=blocked.of(Scope.PHONE),
        account_ids=blocked.account_ids,
        payment_hashes=blocked.of(Scope.PAYMENT),
        device_keys=blocked.of(Scope.DEVICE),
        network_keys=blocked.of(Scope.NETWORK),
    )
    closed = 0
    for entry, patient in candidates:
        if blocked.hit(placement.identifiers(entry, patient=patient), protector=protector):
            closed += placement.close_entry(db, entry=entry, now=now, reason=placement.BLACKLISTED)
    return closed


def entry_view(db: Session, entry: WaitlistEntry) -> WaitlistEntryView:
    session = booking_repo.get_session(db, entry.session_id)
    assert session is not None  # foreign key
    tz = ZoneInfo(booking_repo.hospital_timezone(db, session.hospital_id))
    return WaitlistEntryView(
        waitlist_id=entry.id,
        status=entry.status,
        session_id=session.id,
        department_id=session.department_id,
        session_date=session.session_date,
        patient_id=entry.patient_id,
        account_id=entry.account_id,
        joined_at=entry.created_at.astimezone(tz),
        decided_at=entry.decided_at.astimezone(tz) if entry.decided_at else None,
        booking_id=entry.booking_id,
        payment_account=entry.payment_account_masked,
    )


# -- helpers ---------------------------------------------------------------------------


def _same_account(entry: WaitlistEntry, *, account_id: int) -> WaitlistEntry:
    if entry.account_id != account_id:
        raise WaitlistConflict(
            "This patient is already on this session's waitlist through another account.",
            code="already_waiting",
        )
    return entry


def _settle_returned_slots(
    db: Session,
    *,
    session: ClinicSession,
    now: datetime,
    policy: BookingPolicy,
    rng: random.Random,
    protector: Protector,
) -> None:
    """Give this session's slots whose cooling just ended to the waitlist (or to open
    sale), so "is the session full" is answered on settled slots."""
    take = placement.returned_slot_taker(
        db,
        now=now,
        policy=policy,
        rng=rng,
        protector=protector,
    )
    for slot in availability.slots_of_session(db, session.id):
        if slot.state == SlotState.COOLING:
            transitions.settle_slot(db, slot=slot, session=session, now=now, take_returned=take)
