"""Booking a returned slot for a waiting patient (候补).

A slot that comes back (its cooling is over) is offered to the session's waitlist before
anyone else: ``transitions.settle_slot`` re-releases it and hands it to the taker built
here, in the same transaction, so no other request ever sees it OPEN while someone waits.

The booking is ``bookings.booking.book_slot``, the one booking function every path calls
(the hold, the draws, this): the same rules, claim, row, ledger event, confirmation and
hospital feed, with the entry's pre-authorised payment and its identifiers screened
against the blacklist as parameters. The steps around it (the patient's lock, the
binding, the savepoint, the channel told) are ``bookings/queued.py``'s, shared with what
a draw owes (``allocation/owed.py``). Both sit below the waitlist, so there is no cycle.
"""

from __future__ import annotations

import random
from datetime import datetime

from sqlalchemy.orm import Session

from fairslot.allocation import owed
from fairslot.blacklist import gate as blacklist_gate
from fairslot.bookings import queued, transitions
from fairslot.bookings import repository as booking_repo
from fairslot.bookings.booking import Preauthorised
from fairslot.bookings.models import Booking
from fairslot.bookings.policy import BookingPolicy
from fairslot.crypto import Protector
from fairslot.notifications import service as notify
from fairslot.patients.models import Patient
from fairslot.schedules.models import ClinicSession, Slot
from fairslot.schedules.states import SessionStatus
from fairslot.waitlist import repository as repo
from fairslot.waitlist import rules
from fairslot.waitlist.models import WaitlistEntry, WaitStatus

ACTOR = "waitlist"
BLACKLISTED = queued.BLACKLISTED  # the reason an entry closed by the blacklist gives


def returned_slot_taker(
    db: Session,
    *,
    now: datetime,
    policy: BookingPolicy,
    rng: random.Random,
    protector: Protector | None = None,
) -> transitions.ReturnedSlotTaker:
    """The hook ``settle_slot`` calls with a slot it has just re-released. Without a
    ``protector`` the blacklist is checked on every identifier but devices and networks."""

    def take(slot: Slot, session: ClinicSession) -> bool:
        # What a draw owes comes first (allocation/owed.py), then the waitlist.
        if owed.take_returned_slot(
            db, slot=slot, session=session, now=now, policy=policy, rng=rng, protector=protector
        ):
            return True
        placed = place_returned_slot(
            db,
            slot=slot,
            session=session,
            now=now,
            policy=policy,
            rng=rng,
            protector=protector,
        )
        return placed is not None

    return take


def place_returned_slot(
    db: Session,
    *,
    slot: Slot,
    session: ClinicSession,
    now: datetime,
    policy: BookingPolicy,
    rng: random.Random,
    protector: Protector | None = None,
) -> Booking | None:
    """Book the (OPEN, just re-released) slot for one waiting patient, or return None
    when nobody waiting can have it — the slot then stays on open sale. An entry whose
    patient or identifiers are blacklisted now is closed, not booked."""
    if not _on_sale(session, now):
        return None
    entries = {e.id: e for e in repo.waiting_for_session(db, session.id)}
    if not entries:
        return None
    order = rules.offer_order(
        [rules.Candidate(entry_id=e.id, joined_at=e.created_at) for e in entries.values()],
        order=rules.WaitlistOrder(policy.waitlist_order),
        rng=rng,
    )
    for entry_id in order:
        entry = entries[entry_id]
        if _reserved_for_another_channel(slot, channel_id=entry.channel_id, now=now):
            continue  # this slot is kept for another channel's patients; try the next
        booking = _book_for(
            db,
            entry=entry,
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


def close_entry(db: Session, *, entry: WaitlistEntry, now: datetime, reason: str) -> bool:
    """The entry can no longer be served (a rule refuses it now, the session closed or
    was withdrawn). Its pre-authorisation is released; the channel is told why."""
    if not repo.move_entry(
        db,
        entry_id=entry.id,
        expected=WaitStatus.WAITING,
        target=WaitStatus.CLOSED,
        decided_at=now,
    ):
        return False
    notify.to_channel(
        db,
        channel_id=entry.channel_id,
        kind="waitlist_closed",
        at=now,
        account_id=entry.account_id,
        payload={"waitlist_id": entry.id, "session_id": entry.session_id, "reason": reason},
    )
    return True


def close_stale_entries(db: Session, *, now: datetime, limit: int = 500) -> int:
    closed = 0
    for entry in repo.stale_waiting(db, now=now, limit=limit):
        session = booking_repo.get_session(db, entry.session_id)
        withdrawn = session is not None and session.status != SessionStatus.ACTIVE
        reason = "session_withdrawn" if withdrawn else "booking_closed"
        closed += close_entry(db, entry=entry, now=now, reason=reason)
    return closed


def identifiers(entry: WaitlistEntry, *, patient: Patient) -> blacklist_gate.Identifiers:
    """What a waiting entry is known by, as the gate reads a request."""
    return queued.identifiers(entry, patient=patient)


# -- helpers ---------------------------------------------------------------------------


def _book_for(
    db: Session,
    *,
    entry: WaitlistEntry,
    slot: Slot,
    session: ClinicSession,
    now: datetime,
    policy: BookingPolicy,
    rng: random.Random,
    protector: Protector | None,
) -> Booking | None:
    def mark_booked(booking: Booking) -> bool:
        return repo.move_entry(
            db,
            entry_id=entry.id,
            expected=WaitStatus.WAITING,
            target=WaitStatus.BOOKED,
            booking_id=booking.id,
            decided_at=now,
        )

    placed = queued.book_queued(
        db,
        entry=entry,
        actor=ACTOR,
        slot=slot,
        session=session,
        now=now,
        policy=policy,
        rng=rng,
        preauthorised=Preauthorised(
            payment_account_hash=entry.payment_account_hash,
            payment_account_masked=entry.payment_account_masked,
            payment_reference=entry.payment_reference,
            feed_extra={"waitlist_id": entry.id},
        ),
        protector=protector,
        mark_booked=mark_booked,
        notice=queued.Notice(
            kind="waitlist_booked",
            payload={
                "waitlist_id": entry.id,
                "session_id": session.id,
                "slot_id": slot.id,
                "slot_number": slot.number,
            },
        ),
    )
    if not isinstance(placed, queued.NotPlaced):
        return placed
    if placed.reason not in (queued.ENTRY_CHANGED, queued.SLOT_TAKEN):
        # The patient is no longer bound, blocked now, or a booking rule refuses them
        # now (``booking_conflict`` too): this entry cannot have the slot.
        close_entry(db, entry=entry, now=now, reason=placed.reason)
    return None


def _on_sale(session: ClinicSession, now: datetime) -> bool:
    return (
        session.status == SessionStatus.ACTIVE
        and session.release_at <= now
        and session.closes_at > now
    )


def _reserved_for_another_channel(slot: Slot, *, channel_id: int, now: datetime) -> bool:
    return (
        slot.reserved_channel_id is not None
        and slot.reserved_channel_id != channel_id
        and (slot.reserved_until is None or slot.reserved_until > now)
    )
