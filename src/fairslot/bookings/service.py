"""Booking use cases for channels: hold, confirm, cancel.

Every use case takes the session from the edge (which commits or rolls back), reads the
facts, asks the pure rules, then changes state only through ``transitions``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from fairslot.availability import repository as availability
from fairslot.bookings import repository as repo
from fairslot.bookings import rules, transitions

# The one booking function lives in ``booking``; its rules, confirmation and types are
# still named here by the callers of this service.
from fairslot.bookings.booking import Preauthorised as Preauthorised
from fairslot.bookings.booking import (
    book_slot,
    booking_session,
    claimed_key,
    history_window,
    hospital_payload,
)
from fairslot.bookings.booking import check_rules as check_rules
from fairslot.bookings.booking import confirm_preauthorised as confirm_preauthorised
from fairslot.bookings.booking import refuse as refuse
from fairslot.bookings.booking import session_full as session_full
from fairslot.bookings.errors import (
    BookingNotFound,
    NotYourBooking,
    SlotUnavailable,
    StateConflict,
)
from fairslot.bookings.models import Booking
from fairslot.bookings.policy import BookingPolicy
from fairslot.bookings.states import BookingStatus
from fairslot.channels.models import ChannelKind
from fairslot.context import RequestContext
from fairslot.crypto import Protector, mask_account
from fairslot.errors import InvalidInput, NotFound
from fairslot.memo import hold_place_key, recall_in_transaction, remember_in_transaction
from fairslot.notifications import service as notify
from fairslot.patients.models import Patient
from fairslot.patients.service import get_account, require_binding
from fairslot.schedules.models import ClinicSession


def hold(
    db: Session,
    *,
    account_id: int,
    patient_id: int,
    slot_id: str,
    now: datetime,
    ctx: RequestContext,
    policy: BookingPolicy,
    rng: random.Random,
    preauthorised: Preauthorised | None = None,
    session_id: int | None = None,
) -> Booking:
    """Hold a released slot for a bound patient for ``policy.hold_minutes`` — or, with a
    ``preauthorised`` payment (a draw's winner), book it at once. The booking itself is
    ``booking.book_slot``, the one way every path books.

    ``session_id``: a hold by session. ``slot_id`` is then the session's first free slot
    as read a moment ago (``first_free_slot``); the claim takes whichever slot of the
    session is free when it runs, so concurrent holders are spread over the free slots
    and a hold by session is refused (``session_full``) only when none is left.

    The hold reads and writes only its own patient's and slot's rows: a lapsed hold or a
    due re-release of anyone else's is settled by the sweeper, and the claim's due-time
    predicate already treats such a slot as the clock says (a returned slot with
    patients waiting is not for sale: the sweeper books it for one of them)."""
    # Serialise this patient's concurrent requests (a row lock, taken first so that an
    # unbind cannot slip in between) so that the per-patient limits below are counted on
    # committed data; other patients are not held up.
    repo.lock_patient(db, patient_id=patient_id)
    found = _hold_place(db, slot_id=slot_id, session_id=session_id)
    patient, history = _bound(
        db, account_id=account_id, patient_id=patient_id, ctx=ctx, place=found, now=now,
        policy=policy,
    )  # fmt: skip
    place = _visible(found, session_id=session_id, now=now)
    session = place.session
    if now >= session.closes_at:
        raise SlotUnavailable(
            "Booking for this session has closed.",
            code="booking_closed",
            detail_zh="该时段已停止预约。",
        )
    booking = book_slot(
        db,
        patient=patient,
        account_id=account_id,
        slot_id=None if session_id is not None else slot_id,
        session=session,
        now=now,
        ctx=ctx,
        policy=policy,
        rng=rng,
        preauthorised=preauthorised,
        department=(place.department, place.timezone),
        history=history,
    )
    if preauthorised is None:  # booked at once: changed by an UPDATE, read it back
        remember_in_transaction(db, _place_key(booking.id), place)
    return booking


@dataclass(frozen=True)
class NewHold:
    """A hold made in this transaction, as its claim and its place left it: what its
    answer shows, known without reading the booking, slot and session back."""

    booking: Booking
    slot_number: int
    slot_starts_at: datetime
    slot_ends_at: datetime
    session: ClinicSession
    timezone: str


def new_hold(db: Session, booking: Booking) -> NewHold | None:
    """The hold :func:`hold` just made in this transaction, HELD as it was written (no
    read); None for any other booking, a booking since changed (booked at once), or
    another transaction: the caller then reads it (``repository.booking_place``)."""
    claimed: repo.Claimed | None = recall_in_transaction(db, claimed_key(booking.id))
    place: availability.HoldPlace | None = recall_in_transaction(db, _place_key(booking.id))
    if (
        claimed is None
        or place is None
        or booking.status != BookingStatus.HELD
        or claimed.number is None
        or claimed.starts_at is None
        or claimed.ends_at is None
    ):
        return None
    return NewHold(
        booking=booking,
        slot_number=claimed.number,
        slot_starts_at=claimed.starts_at,
        slot_ends_at=claimed.ends_at,
        session=place.session,
        timezone=place.timezone,
    )


def _place_key(booking_id: str) -> tuple[str, str]:
    return ("hold_place_of", booking_id)


def confirm(
    db: Session,
    *,
    booking_id: str,
    account_id: int,
    payment_account: str,
    payment_reference: str,
    now: datetime,
    ctx: RequestContext,
    protector: Protector,
    known: Booking | None = None,
    patient_key: str | None = None,
    payment_account_hash: str | None = None,
) -> Booking:
    """Confirm a hold with its payment.

    What the request's screening already read may be handed on rather than read again:
    ``known``, the booking (its owner checked), with ``patient_key``, its patient's key;
    ``payment_account_hash``, the keyed hash of this ``payment_account``."""
    booking = _own_booking(
        db, booking_id=booking_id, account_id=account_id, channel_id=ctx.channel_id, known=known
    )
    if booking.status == BookingStatus.BOOKED and booking.payment_reference == payment_reference:
        return booking  # a retried confirmation is answered, not refused
    if booking.status != BookingStatus.HELD:
        raise StateConflict(
            f"This booking is {booking.status.value}; only a hold can be confirmed.",
            code="hold_not_active",
        )
    if booking.expires_at <= now:
        raise StateConflict(
            "The hold expired before payment; hold the slot again if it is still free.",
            code="hold_expired",
            detail_zh="锁号已超时，请重新选择号源。",
        )
    payment_account = payment_account.strip()
    if not payment_account or not payment_reference.strip():
        raise InvalidInput(
            "A payment account and a payment reference are required.", code="payment_required"
        )
    return confirm_preauthorised(
        db,
        booking=booking,
        now=now,
        ctx=ctx,
        payment_account_hash=payment_account_hash
        or protector.keyed_hash(payment_account, purpose="payment_account"),
        payment_account_masked=mask_account(payment_account),
        payment_reference=payment_reference.strip(),
        patient_key=patient_key if booking is known else None,
    )


def cancel(
    db: Session,
    *,
    booking_id: str,
    account_id: int,
    now: datetime,
    ctx: RequestContext,
    channel_kind: ChannelKind,
    policy: BookingPolicy,
    rng: random.Random,
) -> Booking:
    """Cancel a hold or a booking. The slot then cools for a random delay before anyone,
    the canceller included, can see it again (or never returns, for window cancellations
    when that setting is off)."""
    booking = _own_booking(
        db, booking_id=booking_id, account_id=account_id, channel_id=ctx.channel_id
    )
    if booking.status not in (BookingStatus.HELD, BookingStatus.BOOKED):
        raise StateConflict(
            f"This booking is {booking.status.value} and cannot be cancelled.",
            code="booking_not_cancellable",
        )
    session = booking_session(db, booking)
    was_booked = booking.status == BookingStatus.BOOKED
    if was_booked:
        refusal = rules.check_cancellable(
            session_starts_at=session.starts_at, now=now, limits=policy.limits
        )
        if refusal:
            raise refuse(refusal)
    cooling: timedelta | None = cooling_delay(policy, rng)
    # A booking cancelled at the window is retired (unless returns are on); a hold
    # released there only cools, like any hold: HELD never goes to RETIRED.
    if was_booked and channel_kind == ChannelKind.WINDOW and not policy.window_cancellations_return:
        cooling = None
    patient_key = _patient_key(db, booking)
    transitions.cancel(
        db,
        booking=booking,
        patient_key=patient_key,
        now=now,
        ctx=ctx,
        cooling=cooling,
    )
    if was_booked:
        notify.to_hospital(
            db,
            hospital_id=session.hospital_id,
            kind="booking_cancelled",
            at=now,
            booking_id=booking.id,
            payload=hospital_payload(db, booking, session, patient_key=patient_key),
        )
    return booking


def cooling_delay(policy: BookingPolicy, rng: random.Random) -> timedelta:
    return rules.draw_cooling(
        rng=rng, min_minutes=policy.cooling_min_minutes, max_minutes=policy.cooling_max_minutes
    )


def get_booking(db: Session, *, booking_id: str, account_id: int, channel_id: int) -> Booking:
    return _own_booking(db, booking_id=booking_id, account_id=account_id, channel_id=channel_id)


# -- helpers ---------------------------------------------------------------------------


def _hold_place(
    db: Session, *, slot_id: str, session_id: int | None
) -> availability.HoldPlace | None:
    """Where the hold lands (by session when ``session_id`` is given, else by slot).
    Recalled when the release-batch check read it earlier in this transaction
    (``allocation/batches.py::entry_for_hold``), read in one statement otherwise."""
    key = hold_place_key(slot_id=slot_id, session_id=session_id)
    place: availability.HoldPlace | None = recall_in_transaction(db, key)
    return place or availability.hold_place(
        db, slot_id=None if session_id is not None else slot_id, session_id=session_id
    )


def _visible(
    place: availability.HoldPlace | None, *, session_id: int | None, now: datetime
) -> availability.HoldPlace:
    """``place``, or 404 — an unreleased slot or session does not exist for channels."""
    if place is None or place.session.release_at > now:
        if session_id is not None:
            raise NotFound("No such session is open for booking.", code="session_not_found")
        raise NotFound("No such slot is open for booking.", code="slot_not_found")
    return place


def _bound(
    db: Session,
    *,
    account_id: int,
    patient_id: int,
    ctx: RequestContext,
    place: availability.HoldPlace | None,
    now: datetime,
    policy: BookingPolicy,
) -> tuple[Patient, repo.PatientHistory | None]:
    """The bound patient, read after the patient's lock — with, where the hold lands,
    what the patient's booking rules count, in the same statement (``book_slot`` then
    reads nothing more for them) — or the binding check's refusal."""
    if place is not None:
        bound = repo.bound_patient_with_history(
            db, account_id=account_id, patient_id=patient_id, channel_id=ctx.channel_id,
            now=now, **history_window(place.session, place.timezone, now, policy),
        )  # fmt: skip
        if bound is not None:
            return bound
    else:
        patient = repo.bound_patient(
            db, account_id=account_id, patient_id=patient_id, channel_id=ctx.channel_id
        )
        if patient is not None:
            return patient, None
    return _binding_refusal(db, account_id=account_id, patient_id=patient_id, ctx=ctx), None


def _binding_refusal(
    db: Session, *, account_id: int, patient_id: int, ctx: RequestContext
) -> Patient:
    """Raise the binding check's own refusal (no such account: 404; not bound: 403); if
    the binding was made a moment ago, it passes and hands the patient back."""
    _, patient = require_binding(
        db, account_id=account_id, patient_id=patient_id, channel_id=ctx.channel_id
    )
    return patient


def _own_booking(
    db: Session,
    *,
    booking_id: str,
    account_id: int,
    channel_id: int | None,
    known: Booking | None = None,
) -> Booking:
    """The account's booking (the account checked as the channel's); ``known``: the
    booking already read in this transaction, not read again."""
    get_account(db, account_id=account_id, channel_id=channel_id)
    booking = known if known is not None and known.id == booking_id else None
    booking = booking or repo.get_booking(db, booking_id)
    if booking is None:
        raise BookingNotFound("No booking with this id.")
    if booking.account_id != account_id:
        raise NotYourBooking("This booking was made by another account.")
    return booking


def _patient_key(db: Session, booking: Booking) -> str:
    key = repo.patient_key(db, booking.patient_id)
    assert key is not None
    return key


def first_free_slot(db: Session, *, session_id: int, now: datetime, channel_id: int) -> str:
    """The lowest-numbered slot a channel could hold now in a released session: recalled
    when the release-batch check read it with the hold's place in this transaction, for
    this channel at this instant (``allocation/batches.py::entry_for_hold``)."""
    place: availability.HoldPlace | None = recall_in_transaction(
        db, hold_place_key(slot_id=None, session_id=session_id)
    )
    known = place.first_free if place is not None else None
    if known is not None and known.now == now and known.channel_id == channel_id:
        released, slot_id = known.released, known.slot_id
    else:
        released, slot_id = availability.first_free_slot(
            db, session_id=session_id, now=now, channel_id=channel_id
        )
    if not released:
        raise NotFound("No such session is open for booking.", code="session_not_found")
    if slot_id is None:
        raise session_full()
    return slot_id
