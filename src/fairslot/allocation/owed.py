"""What a draw owes comes before the waitlist.

An entry is OWED when a reviewer cleared it after its draw (or release batch) and its
place in the published order had won, but no slot it accepts was free to give it
(``screening_review.clear``). The draw owes it the next slot of its department-day that
it accepts, and that debt ranks **before the waitlist** (候补): the waiting patients
joined after the draw had given its slots out, the owed entrant was in the draw and won
it. So a slot that comes back (a cancellation or a lapsed hold, its cooling over) is
offered to the owed entries of its department-day first, the first cleared first, and
only then to the session's waitlist — in the same transaction that re-releases it
(``waitlist/placement.py::returned_slot_taker``), so neither a poller nor the waitlist
sees it first. An owed entry that a booking rule or a block refuses now stays owed (the
worker's ``screening_review.settle_owed`` retries it, and marks it lost when its
sessions close); the slot then goes on to the next owed entry, then the waitlist.

Imports neither ``bookings.service`` nor the waitlist (this sits below both): the one
booking function, ``bookings.booking.book_slot``, does the booking, with the steps around
it the waitlist takes too (``bookings/queued.py``).
"""

from __future__ import annotations

import random
from datetime import datetime

from sqlalchemy.orm import Session

from fairslot.allocation import repository as draw_repo
from fairslot.allocation import rules
from fairslot.allocation import screening_repository as repo
from fairslot.allocation.models import Intent
from fairslot.allocation.states import IntentStatus
from fairslot.bookings import queued
from fairslot.bookings.booking import Preauthorised
from fairslot.bookings.models import Booking
from fairslot.bookings.policy import BookingPolicy
from fairslot.crypto import Protector
from fairslot.schedules.models import ClinicSession, Slot
from fairslot.schedules.states import SessionStatus

ACTOR = "draw:owed"


def take_returned_slot(
    db: Session,
    *,
    slot: Slot,
    session: ClinicSession,
    now: datetime,
    policy: BookingPolicy,
    rng: random.Random,
    protector: Protector | None = None,
) -> Booking | None:
    """Book the just re-released ``slot`` for the first owed entry of its department-day
    that accepts it; None when no owed entry can have it (the waitlist is next)."""
    if not (
        session.status == SessionStatus.ACTIVE and session.release_at <= now < session.closes_at
    ):
        return None
    owed = repo.owed_for_day(
        db, department_id=session.department_id, session_date=session.session_date
    )
    if not owed:
        return None
    titles = {
        s.id: title
        for s, title in draw_repo.department_day_sessions(
            db, department_id=session.department_id, session_date=session.session_date
        )
    }
    offered = rules.FreeSlot(
        slot_id=slot.id,
        session_id=slot.session_id,
        number=slot.number,
        title=titles.get(slot.session_id, ""),
        reserved_for=slot.reserved_channel_id
        if slot.reserved_channel_id is not None
        and (slot.reserved_until is None or slot.reserved_until > now)
        else None,
    )
    for intent in owed:
        if rules.pick(_entry(intent), [offered]) is None:
            continue  # another session or title than it asked for
        booking = _book(
            db,
            intent=intent,
            slot=slot,
            session=session,
            now=now,
            policy=policy,
            rng=rng,
            protector=protector,
        )
        if booking is not None:
            return booking
    return None


def _entry(intent: Intent) -> rules.Entry:
    return rules.Entry(
        intent_id=intent.id,
        session_id=intent.session_id,
        title=intent.title.value if intent.title else None,
        channel_id=intent.channel_id,
    )


def _book(
    db: Session,
    *,
    intent: Intent,
    slot: Slot,
    session: ClinicSession,
    now: datetime,
    policy: BookingPolicy,
    rng: random.Random,
    protector: Protector | None,
) -> Booking | None:
    # A draw's entry was pre-authorised: booked at once. A release-batch entry made by a
    # hold was not: it holds the slot and pays within the hold time, as its win would have.
    preauthorised = (
        Preauthorised(
            payment_account_hash=intent.payment_account_hash,
            payment_account_masked=intent.payment_account_masked,
            payment_reference=intent.payment_reference or "",
            feed_extra={"draw_id": intent.draw_id, "remedy": "owed_before_waitlist"},
        )
        if intent.payment_account_hash and intent.payment_account_masked
        else None
    )

    def mark_booked(booking: Booking) -> bool:
        return repo.move(
            db,
            intent_id=intent.id,
            expected=IntentStatus.OWED,
            target=IntentStatus.WON,
            booking_id=booking.id,
            decided_at=now,
        )

    placed = queued.book_queued(
        db,
        entry=intent,
        actor=f"draw:{intent.draw_id}:remedy",
        slot=slot,
        session=session,
        now=now,
        policy=policy,
        rng=rng,
        preauthorised=preauthorised,
        protector=protector,
        mark_booked=mark_booked,
        notice=queued.Notice(
            kind="intent_review_decided",
            payload={
                "intent_id": intent.id,
                "draw_id": intent.draw_id,
                "patient_id": intent.patient_id,
                "status": IntentStatus.WON.value,
            },
        ),
    )
    if isinstance(placed, queued.NotPlaced):
        # Refused now (unbound, a rule, a block, the claim lost, the entry changed): it
        # stays owed — the worker's pass retries it and closes it with its sessions —
        # and the slot goes on.
        return None
    repo.add_event(
        db,
        intent=intent,
        kind="remedy_booked",
        at=now,
        actor=ACTOR,
        case_id=intent.case_id,
        data={"booking_id": placed.id, "slot_id": slot.id, "before": "waitlist"},
    )
    return placed
