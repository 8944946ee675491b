"""Booking use cases for channels: hold, confirm, cancel.

Every use case takes the session from the edge (which commits or rolls back), reads the
facts, asks the pure rules, then changes state only through ``transitions``.
"""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from fairslot.availability import repository as availability
from fairslot.bookings import repository as repo
from fairslot.bookings import rules, transitions
from fairslot.bookings.errors import (
    BookingNotFound,
    BookingRefused,
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
from fairslot.errors import DomainError, InvalidInput, NotFound
from fairslot.notifications import service as notify
from fairslot.patients.models import Patient
from fairslot.patients.service import get_account, require_binding
from fairslot.schedules.models import ClinicSession, Slot
from fairslot.schedules.states import SlotState
from fairslot.waitlist import placement as waitlist


def refuse(refusal: rules.Refusal) -> DomainError:
    error = BookingRefused(refusal.detail, code=refusal.code, detail_zh=refusal.detail_zh)
    error.status = refusal.status  # type: ignore[misc]
    return error


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
) -> Booking:
    """Hold a released slot for a bound patient for ``policy.hold_minutes``."""
    # Serialise this patient's concurrent requests (a row lock, taken first so that an
    # unbind cannot slip in between) so that the per-patient limits below are counted on
    # committed data; other patients are not held up.
    repo.lock_patient(db, patient_id=patient_id)
    patient = repo.bound_patient(
        db, account_id=account_id, patient_id=patient_id, channel_id=ctx.channel_id
    ) or _binding_refusal(db, account_id=account_id, patient_id=patient_id, ctx=ctx)
    slot, session = _visible_slot(db, slot_id=slot_id, now=now)
    if now >= session.closes_at:
        raise SlotUnavailable(
            "Booking for this session has closed.",
            code="booking_closed",
            detail_zh="该时段已停止预约。",
        )
    for stale in [
        *repo.stale_holds(db, now=now, patient_id=patient.id),
        *(repo.stale_holds(db, now=now, slot_id=slot.id) if slot.state == SlotState.HELD else []),
    ]:
        transitions.expire_hold(db, booking=stale, now=now, cooling=cooling_delay(policy, rng))
    # A slot whose cooling just ended goes to the session's waitlist (候补) first. This
    # request is then refused like any other, but the waiting patient's booking stands.
    # An open slot has nothing to settle but its release entry in the ledger: that is
    # written after the claim, so the slot's row is locked only from the claim on.
    if slot.state != SlotState.OPEN and transitions.settle_slot(
        db,
        slot=slot,
        session=session,
        now=now,
        take_returned=waitlist.returned_slot_taker(
            db, now=now, policy=policy, rng=rng, check_rules=check_rules
        ),
    ):
        raise _slot_taken(keep_changes=True)
    check_rules(db, patient=patient, session=session, now=now, policy=policy)

    hold_until = now + timedelta(minutes=policy.hold_minutes)
    if not repo.claim_slot(
        db, slot_id=slot.id, channel_id=ctx.channel_id or 0, now=now, hold_until=hold_until
    ):
        raise _slot_taken()
    transitions.log_release(db, slot=slot, session=session, now=now)
    booking = Booking(
        slot_id=slot.id,
        session_id=session.id,
        department_id=session.department_id,
        session_date=session.session_date,
        patient_id=patient.id,
        account_id=account_id,
        channel_id=ctx.channel_id or 0,
        status=BookingStatus.HELD,
        held_at=now,
        expires_at=hold_until,
        device_id=ctx.device_id,
        ip=ctx.ip,
        wifi_id=ctx.wifi_id,
        user_agent=ctx.user_agent,
    )
    db.add(booking)
    try:
        db.flush()
    except IntegrityError as exc:
        # The partial unique indexes caught a race the checks above could not see.
        raise StateConflict(
            "This slot or this patient's department-day was just taken by another request.",
            code="booking_conflict",
        ) from exc
    transitions.record_hold(db, booking=booking, patient_key=patient.id_hash, now=now, ctx=ctx)
    return booking


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


def confirm_preauthorised(
    db: Session,
    *,
    booking: Booking,
    now: datetime,
    ctx: RequestContext,
    payment_account_hash: str,
    payment_account_masked: str,
    payment_reference: str,
    feed_extra: dict[str, object] | None = None,
    patient_key: str | None = None,
) -> Booking:
    """Confirm a hold with a payment already checked (or pre-authorised, as a draw's or a
    waitlist's), and put the booking on the hospital's feed to carry out.
    ``patient_key``: the booking's patient's, if the caller already knows it."""
    patient_key = patient_key or _patient_key(db, booking)
    transitions.confirm(
        db,
        booking=booking,
        patient_key=patient_key,
        now=now,
        ctx=_with_payment(ctx, payment_account_hash),
        payment_account_hash=payment_account_hash,
        payment_account_masked=payment_account_masked,
        payment_reference=payment_reference,
    )
    session = _session(db, booking)
    notify.to_hospital(
        db,
        hospital_id=session.hospital_id,
        kind="booking_confirmed",
        at=now,
        booking_id=booking.id,
        payload={
            **_hospital_payload(db, booking, session, patient_key=patient_key),
            **(feed_extra or {}),
        },
    )
    return booking


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
    session = _session(db, booking)
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
            payload=_hospital_payload(db, booking, session, patient_key=patient_key),
        )
    return booking


def cooling_delay(policy: BookingPolicy, rng: random.Random) -> timedelta:
    return rules.draw_cooling(
        rng=rng, min_minutes=policy.cooling_min_minutes, max_minutes=policy.cooling_max_minutes
    )


def get_booking(db: Session, *, booking_id: str, account_id: int, channel_id: int) -> Booking:
    return _own_booking(db, booking_id=booking_id, account_id=account_id, channel_id=channel_id)


# -- helpers ---------------------------------------------------------------------------


def _visible_slot(db: Session, *, slot_id: str, now: datetime) -> tuple[Slot, ClinicSession]:
    """The slot and its session, or 404 — an unreleased slot does not exist for channels."""
    found = repo.slot_and_session(db, slot_id)
    if found is None or found[1].release_at > now:
        raise NotFound("No such slot is open for booking.", code="slot_not_found")
    return found


def _binding_refusal(
    db: Session, *, account_id: int, patient_id: int, ctx: RequestContext
) -> Patient:
    """Raise the binding check's own refusal (no such account: 404; not bound: 403); if
    the binding was made a moment ago, it passes and hands the patient back."""
    _, patient = require_binding(
        db, account_id=account_id, patient_id=patient_id, channel_id=ctx.channel_id
    )
    return patient


def check_rules(
    db: Session,
    *,
    patient: Patient,
    session: ClinicSession,
    now: datetime,
    policy: BookingPolicy,
) -> None:
    """Every booking rule for this patient and session; raises the first refusal. Shared
    by the hold, release-draw intents and the waitlist, so all book under one rule set."""
    department, zone = repo.department_and_timezone(db, department_id=session.department_id)
    tz = ZoneInfo(zone)
    history = repo.patient_history(
        db,
        patient_id=patient.id,
        day=session.session_date,
        today=now.astimezone(tz).date(),
        no_show_since=now - timedelta(days=policy.limits.no_show_window_days),
    )
    ban_until = rules.no_show_ban_until(
        no_show_times=history.no_show_times, now=now, limits=policy.limits
    )
    checks = [
        rules.check_no_show_ban(
            ban_until=ban_until, local_date=ban_until.astimezone(tz).date() if ban_until else None
        ),
        rules.check_eligibility(
            patient=rules.PatientFacts(sex=patient.sex, birth_date=patient.birth_date),
            department=rules.DepartmentFacts(
                department_id=department.id,
                sex_restriction=department.sex_restriction,
                min_age=department.min_age,
                max_age=department.max_age,
            ),
            session_date=session.session_date,
        ),
        rules.check_daily_limits(
            same_day_departments=history.same_day_departments,
            department_id=session.department_id,
            limits=policy.limits,
        ),
        rules.check_future_limit(pending_future=history.pending_future, limits=policy.limits),
    ]
    for refusal in checks:
        if refusal:
            raise refuse(refusal)


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


def _session(db: Session, booking: Booking) -> ClinicSession:
    session = repo.get_session(db, booking.session_id)
    assert session is not None  # a foreign key guarantees it
    return session


def _patient_key(db: Session, booking: Booking) -> str:
    key = repo.patient_key(db, booking.patient_id)
    assert key is not None
    return key


def _with_payment(ctx: RequestContext, payment_hash: str) -> RequestContext:
    return replace(ctx, payment_account_hash=payment_hash)


def _hospital_payload(
    db: Session, booking: Booking, session: ClinicSession, *, patient_key: str
) -> dict[str, object]:
    slot = repo.get_slot(db, booking.slot_id)
    return {
        "his_session_id": session.his_session_id,
        "session_id": session.id,  # the platform's id, as channels know the session
        "slot_id": booking.slot_id,
        "slot_number": slot.number if slot else None,
        "patient_key": patient_key,
        "status": booking.status.value,
    }


def _slot_taken(*, keep_changes: bool = False) -> SlotUnavailable:
    return SlotUnavailable(
        "This slot is no longer available; choose another slot or session.",
        code="slot_taken",
        detail_zh="该号源已被预约，请选择其他号源。",
        keep_changes=keep_changes,
    )


def first_free_slot(db: Session, *, session_id: int, now: datetime, channel_id: int) -> str:
    """The lowest-numbered slot a channel could hold now in a released session."""
    released, slot_id = availability.first_free_slot(
        db, session_id=session_id, now=now, channel_id=channel_id
    )
    if not released:
        raise NotFound("No such session is open for booking.", code="session_not_found")
    if slot_id is None:
        raise session_full()
    return slot_id


def session_full(*, keep_changes: bool = False) -> SlotUnavailable:
    """The refusal of a hold by session when no slot of it is free for the channel."""
    return SlotUnavailable(
        "This session is fully booked.",
        code="session_full",
        detail_zh="该时段号源已约满。",
        keep_changes=keep_changes,
    )
