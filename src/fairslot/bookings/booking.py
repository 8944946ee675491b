"""The one way a slot is booked: ``book_slot``.

Every path that books — a channel's hold (``service.hold``), a release draw's and a
release batch's winners (through the hold), a waitlist placement
(``waitlist/placement.py``) — calls ``book_slot``: the booking rules, the claim, the
booking row, its ledger event and, for a pre-authorised payment, the confirmation and
the hospital's feed. What differs between the paths is said by its parameters, not by
a copy: who pays (``preauthorised``), which identifiers are screened against the
blacklist here (``screen``, for the paths that book with no request at the gate).

This module sits below the waitlist and allocation: it imports neither, so they can call
it without a cycle.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from fairslot.blacklist import gate as blacklist_gate
from fairslot.bookings import repository as repo
from fairslot.bookings import rules, transitions
from fairslot.bookings.errors import BookingRefused, SlotUnavailable, StateConflict
from fairslot.bookings.models import Booking
from fairslot.bookings.policy import BookingPolicy
from fairslot.bookings.states import BookingStatus
from fairslot.context import RequestContext
from fairslot.crypto import Protector
from fairslot.errors import DomainError
from fairslot.hospitals.models import Department
from fairslot.memo import remember_in_transaction
from fairslot.notifications import service as notify
from fairslot.patients.models import Patient
from fairslot.schedules.models import ClinicSession


@dataclass(frozen=True)
class Preauthorised:
    """A payment taken before the slot was known (a draw's intent, a waitlist entry): the
    booking is confirmed as it is made. ``feed_extra`` is added to the hospital's feed."""

    payment_account_hash: str
    payment_account_masked: str
    payment_reference: str
    feed_extra: dict[str, object] = field(default_factory=dict)


def book_slot(
    db: Session,
    *,
    patient: Patient,
    account_id: int,
    slot_id: str | None,
    session: ClinicSession,
    now: datetime,
    ctx: RequestContext,
    policy: BookingPolicy,
    rng: random.Random | None = None,
    preauthorised: Preauthorised | None = None,
    screen: blacklist_gate.Identifiers | None = None,
    protector: Protector | None = None,
    department: tuple[Department, str] | None = None,
    history: repo.PatientHistory | None = None,
) -> Booking:
    """Book ``slot_id`` — or, with None, the lowest-numbered free slot of ``session`` —
    for a bound ``patient``: HELD for ``policy.hold_minutes``, or BOOKED at once and put
    on the hospital's feed when ``preauthorised``. ``screen``: identifiers to check
    against the blacklist here, refused as the request gate refuses (for paths with no
    request at the gate). ``rng`` draws the cooling of the patient's own lapsed holds.
    ``department``: the session's department and its hospital's zone, and ``history``:
    the patient's (``check_rules``), if the caller read them in this transaction (not
    read again).

    The caller has taken the patient's lock (``repository.lock_patient``, first, so that
    an unbind cannot slip in) and checked the binding and that the slot's session is on
    sale; the per-patient limits below are then counted on committed data.

    Only this patient's and this slot's rows are written: the patient's own holds that
    lapsed are expired here (their department-day must be free for this booking), but
    nobody else's state is settled — other lapsed holds and due re-releases are the
    sweeper's, and the claim's due-time predicate already treats them as the clock says.

    Raises the first refusal: the blacklist's, a booking rule's, ``slot_taken`` (by slot)
    or ``session_full`` (by session) when the claim finds nothing to take,
    ``booking_conflict`` when a unique index catches a race. The caller owns the
    transaction (or a savepoint) and rolls back on any of them."""
    if screen is not None and blacklist_gate.is_blocked(
        db, ids=screen, now=now, protector=protector
    ):
        raise blacklist_gate.refusal()
    lapsed = check_rules(
        db, patient=patient, session=session, now=now, policy=policy, department=department,
        history=history,
    )  # fmt: skip
    for booking_id in lapsed:
        _expire_own_hold(db, booking_id=booking_id, now=now, policy=policy, rng=rng)

    channel_id = ctx.channel_id or 0
    booking = Booking(
        slot_id=slot_id,  # by session: the slot the claim takes
        session_id=session.id,
        department_id=session.department_id,
        session_date=session.session_date,
        patient_id=patient.id,
        account_id=account_id,
        channel_id=channel_id,
        status=BookingStatus.HELD,
        held_at=now,
        expires_at=now + timedelta(minutes=policy.hold_minutes),
        device_key=ctx.device_key,
        ip_key=ctx.ip_key,
        ip_label=ctx.ip_label,
        wifi_key=ctx.wifi_key,
        user_agent=ctx.user_agent,
    )
    try:
        claimed = transitions.claim_and_hold(
            db, booking=booking, session=session, patient_key=patient.id_hash, now=now,
            ctx=ctx, by_session=slot_id is None,
        )  # fmt: skip
    except IntegrityError as exc:
        # The partial unique indexes caught a race the checks above could not see.
        raise StateConflict(
            "This slot or this patient's department-day was just taken by another request.",
            code="booking_conflict",
        ) from exc
    if claimed is None:
        raise slot_taken() if slot_id is not None else session_full()
    # The hold's answer shows the slot as the claim returned it (``service.new_hold``).
    remember_in_transaction(db, claimed_key(booking.id), claimed)
    if preauthorised is not None:
        confirm_preauthorised(
            db,
            booking=booking,
            now=now,
            ctx=ctx,
            payment_account_hash=preauthorised.payment_account_hash,
            payment_account_masked=preauthorised.payment_account_masked,
            payment_reference=preauthorised.payment_reference,
            feed_extra=preauthorised.feed_extra,
            patient_key=patient.id_hash,
        )
    return booking


def claimed_key(booking_id: str) -> tuple[str, str]:
    """The key the claim behind a booking made in this transaction is kept under."""
    return ("claimed", booking_id)


def _expire_own_hold(
    db: Session,
    *,
    booking_id: str,
    now: datetime,
    policy: BookingPolicy,
    rng: random.Random | None,
) -> None:
    """Expire one of the booking patient's own holds that lapsed (rare: the sweeper
    usually got there first). Its slot cools for a drawn delay from the expiry instant,
    as the sweeper would have written it."""
    booking = repo.get_booking(db, booking_id)
    if booking is None or booking.status != BookingStatus.HELD:
        return
    transitions.expire_hold(
        db,
        booking=booking,
        now=now,
        cooling=rules.draw_cooling(
            # OS randomness when the caller has none: the delay must not be predictable.
            rng=rng or random.SystemRandom(),
            min_minutes=policy.cooling_min_minutes,
            max_minutes=policy.cooling_max_minutes,
        ),
    )


def confirmed_place_key(booking_id: str) -> tuple[str, str]:
    """Where a confirmation keeps its booking and slot place for the rest of its
    transaction (``memo.remember_in_transaction``)."""
    return ("confirmed_place", booking_id)


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
        ctx=replace(ctx, payment_account_hash=payment_account_hash),
        payment_account_hash=payment_account_hash,
        payment_account_masked=payment_account_masked,
        payment_reference=payment_reference,
    )
    place = repo.slot_place(db, slot_id=booking.slot_id)
    assert place is not None  # foreign keys guarantee the slot, its session and hospital
    # The confirmation's answer is built from it (api/booking_views.py::booking_view).
    remember_in_transaction(db, confirmed_place_key(booking.id), (booking, place))
    session, slot_number = place.session, place.number
    notify.to_hospital(
        db,
        hospital_id=session.hospital_id,
        kind="booking_confirmed",
        at=now,
        booking_id=booking.id,
        payload={
            **hospital_payload(
                db, booking, session, patient_key=patient_key, slot_number=slot_number
            ),
            **(feed_extra or {}),
        },
    )
    return booking


def check_rules(
    db: Session,
    *,
    patient: Patient,
    session: ClinicSession,
    now: datetime,
    policy: BookingPolicy,
    department: tuple[Department, str] | None = None,
    history: repo.PatientHistory | None = None,
) -> list[str]:
    """Every booking rule for this patient and session; raises the first refusal. Run by
    ``book_slot`` for every booking, and on their own where an entry is taken (a draw's
    intent, a batch entry, a waitlist entry) so that it is refused before it waits.

    ``department``: the session's department and its hospital's zone, and ``history``:
    the patient's (read over :func:`history_window`), if the caller has them from this
    transaction. Returns the ids of the patient's own holds that lapsed (not counted by
    the rules)."""
    known, zone = department or repo.department_and_timezone(
        db, department_id=session.department_id
    )
    tz = ZoneInfo(zone)
    history = history or repo.patient_history(
        db, patient_id=patient.id, now=now, **history_window(session, zone, now, policy)
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
                department_id=known.id,
                sex_restriction=known.sex_restriction,
                min_age=known.min_age,
                max_age=known.max_age,
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
    return history.lapsed_holds


def history_window(
    session: ClinicSession, zone: str, now: datetime, policy: BookingPolicy
) -> dict[str, Any]:
    """What the per-patient rules count a patient's bookings over, for a booking of
    ``session`` at ``now`` (``repository.patient_history``'s ``day``, ``today`` and
    ``no_show_since``); ``zone``: the hospital's."""
    return {
        "day": session.session_date,
        "today": now.astimezone(ZoneInfo(zone)).date(),
        "no_show_since": now - timedelta(days=policy.limits.no_show_window_days),
    }


def refuse(refusal: rules.Refusal) -> DomainError:
    error = BookingRefused(refusal.detail, code=refusal.code, detail_zh=refusal.detail_zh)
    error.status = refusal.status  # type: ignore[misc]
    return error


def slot_taken(*, keep_changes: bool = False) -> SlotUnavailable:
    return SlotUnavailable(
        "This slot is no longer available; choose another slot or session.",
        code="slot_taken",
        detail_zh="该号源已被预约，请选择其他号源。",
        keep_changes=keep_changes,
    )


def session_full(*, keep_changes: bool = False) -> SlotUnavailable:
    """The refusal of a hold by session when no slot of it is free for the channel."""
    return SlotUnavailable(
        "This session is fully booked.",
        code="session_full",
        detail_zh="该时段号源已约满。",
        keep_changes=keep_changes,
    )


def booking_session(db: Session, booking: Booking) -> ClinicSession:
    session = repo.get_session(db, booking.session_id)
    assert session is not None  # a foreign key guarantees it
    return session


def hospital_payload(
    db: Session,
    booking: Booking,
    session: ClinicSession,
    *,
    patient_key: str,
    slot_number: int | None = None,
) -> dict[str, object]:
    """What the hospital's feed says of a booking (confirmed or cancelled);
    ``slot_number``: the slot's, if the caller has it (not read again)."""
    if slot_number is None:
        slot = repo.get_slot(db, booking.slot_id)
        slot_number = slot.number if slot else None
    return {
        "his_session_id": session.his_session_id,
        "session_id": session.id,  # the platform's id, as channels know the session
        "slot_id": booking.slot_id,
        "slot_number": slot_number,
        "patient_key": patient_key,
        "status": booking.status.value,
    }


def _patient_key(db: Session, booking: Booking) -> str:
    key = repo.patient_key(db, booking.patient_id)
    assert key is not None
    return key
