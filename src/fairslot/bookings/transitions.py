"""Every state change of a booking and its slot, one named function each.

Each one moves the rows with a compare-and-set and appends the slot-ledger event in the
same transaction. Nothing else in fairslot assigns a booking status or a slot state.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from fairslot.availability.repository import session_has_waiting
from fairslot.bookings import repository as repo
from fairslot.bookings.errors import StateConflict
from fairslot.bookings.models import Booking
from fairslot.bookings.states import BookingStatus
from fairslot.context import SYSTEM, RequestContext
from fairslot.db.base import new_guid
from fairslot.ledger import service as ledger
from fairslot.ledger.events import EventKind
from fairslot.schedules.models import ClinicSession, Slot
from fairslot.schedules.states import SlotState

# Called by ``settle_slot`` with a slot it has just re-released (OPEN, in this
# transaction); returns True when it booked the slot for a waiting patient (候补).
ReturnedSlotTaker = Callable[[Slot, ClinicSession], bool]


def settle_slot(
    db: Session,
    *,
    slot: Slot,
    session: ClinicSession,
    now: datetime,
    take_returned: ReturnedSlotTaker | None = None,
) -> bool:
    """Write the ledger events the clock has made due (release, re-release).

    Releases are computed from the clock, so the gate never waits for this; it only makes
    the history complete. Runs whenever a slot is touched, and from the worker's sweep.

    A slot whose cooling is over goes to the session's waitlist first: it is re-released
    and handed to ``take_returned`` in the same transaction, so nobody else can see it
    OPEN in between. Without a taker, a slot with patients waiting is left cooling for a
    caller that has one (the hold path, the sweep) — re-releasing it here would put it
    on open sale to whoever asks first. Returns True when the slot went to the waitlist.
    """
    log_release(db, slot=slot, session=session, now=now)
    if slot.state != SlotState.COOLING or slot.reopen_at is None or slot.reopen_at > now:
        return False
    if take_returned is None and session_has_waiting(db, session_id=session.id):
        return False
    reopen_at = slot.reopen_at
    if not repo.reopen_slot(db, slot_id=slot.id, now=now):
        return False
    ledger.record(
        db,
        slot_id=slot.id,
        kind=EventKind.RE_RELEASED,
        at=reopen_at,
        recorded_at=now,
        ctx=SYSTEM,
    )
    _sync(slot, state=SlotState.OPEN, reopen_at=None)
    if take_returned is not None and take_returned(slot, session):
        _sync(slot, state=SlotState.BOOKED)
        return True
    return False


def log_release(db: Session, *, slot: Slot, session: ClinicSession, now: datetime) -> None:
    """Write the slot's ``released`` entry once, if its release time has come."""
    if (
        not slot.release_logged
        and session.release_at <= now
        and repo.mark_release_logged(db, slot_id=slot.id)
    ):
        ledger.record(
            db,
            slot_id=slot.id,
            kind=EventKind.RELEASED,
            at=session.release_at,
            recorded_at=now,
            ctx=SYSTEM,
        )
        _sync(slot, release_logged=True)


def claim_and_hold(
    db: Session,
    *,
    booking: Booking,
    session: ClinicSession,
    patient_key: str,
    now: datetime,
    ctx: RequestContext,
    by_session: bool,
) -> repo.Claimed | None:
    """Claim a slot for the new HELD ``booking`` (its ``slot_id``, or with ``by_session``
    the session's lowest-numbered claimable slot), write the booking and the ledger rows
    the claim made due, in order: the slot's ``released`` entry if it had not been
    written, ``re_released`` at the drawn time when the slot was claimed straight from
    COOLING (the claim's due-time predicate let it: nobody was waiting for its session),
    then ``held``. None, with nothing written, when there was no slot to claim.

    The writes are the repository's (``repository.claim_and_insert``): one statement on
    PostgreSQL, three on SQLite."""
    claim = {
        "channel_id": ctx.channel_id or 0,
        "now": now,
        "hold_until": booking.expires_at,
        **({"in_session": session.id} if by_session else {"slot_id": booking.slot_id}),
    }
    if booking.id is None:
        booking.id = new_guid()  # the ``held`` row names it
    rows = hold_rows(booking=booking, session=session, patient_key=patient_key, now=now, ctx=ctx)
    return repo.claim_and_insert(db, claim=claim, booking=booking, rows=rows)


def hold_rows(
    *, booking: Booking, session: ClinicSession, patient_key: str, now: datetime,
    ctx: RequestContext, slot_id: str | None = None,
) -> list[dict[str, Any]]:  # fmt: skip
    """The three ledger rows a hold's claim can make due, in ledger order
    (``hold_statement.DUE_KINDS``), for the slot ``slot_id`` (the booking's when not
    given); ``re_released`` is at ``now`` until the claim says when the slot was due."""
    slot_id = slot_id or booking.slot_id
    return [
        ledger.entry_row(
            slot_id=slot_id, kind=EventKind.RELEASED, at=session.release_at, recorded_at=now,
            ctx=SYSTEM,
        ),
        ledger.entry_row(
            slot_id=slot_id, kind=EventKind.RE_RELEASED, at=now, recorded_at=now, ctx=SYSTEM
        ),
        ledger.entry_row(
            slot_id=slot_id, kind=EventKind.HELD, at=now, recorded_at=now, ctx=ctx,
            booking_id=booking.id, patient_key=patient_key,
            data={"expires_at": booking.expires_at.isoformat()},
        ),
    ]  # fmt: skip


def expire_hold(db: Session, *, booking: Booking, now: datetime, cooling: timedelta) -> bool:
    """A hold not paid in time lapses; the slot then cools like a cancelled one.

    Were it free again at once, the holder (who knows the expiry to the second) could
    re-hold it forever, or hand it to a buyer at that instant.
    """
    reopen_at = booking.expires_at + cooling
    if not repo.move_booking(
        db,
        booking_id=booking.id,
        expected=BookingStatus.HELD,
        target=BookingStatus.EXPIRED,
        extra_where=[Booking.expires_at <= now],
        ended_at=now,
    ):
        return False
    if not repo.move_slot(
        db,
        slot_id=booking.slot_id,
        expected=[SlotState.HELD],
        target=SlotState.COOLING,
        hold_expires_at=None,
        reopen_at=reopen_at,
    ):
        raise StateConflict("The slot was not held by this booking.")
    for kind, data in (
        (EventKind.HOLD_EXPIRED, {}),
        (EventKind.COOLING, {"reopen_at": reopen_at.isoformat(), "reason": "hold_expired"}),
    ):
        _booking_event(
            db,
            booking=booking,
            kind=kind,
            now=now,
            ctx=SYSTEM,
            at=booking.expires_at,
            patient_key=_patient_key(db, booking),
            data=data,
        )
    _sync(booking, status=BookingStatus.EXPIRED, ended_at=now)
    return True


def confirm(
    db: Session,
    *,
    booking: Booking,
    patient_key: str,
    now: datetime,
    ctx: RequestContext,
    payment_account_hash: str,
    payment_account_masked: str,
    payment_reference: str,
) -> None:
    """A hold paid: the booking and its slot to BOOKED and the ``booked`` row, written at
    once (one statement on PostgreSQL: ``repository.confirm_writes``)."""
    payment = {
        "payment_account_hash": payment_account_hash,
        "payment_account_masked": payment_account_masked,
        "payment_reference": payment_reference,
    }
    row = ledger.entry_row(
        slot_id=booking.slot_id, kind=EventKind.BOOKED, at=now, recorded_at=now, ctx=ctx,
        booking_id=booking.id, patient_key=patient_key,
        data={"payment_reference": payment_reference},
    )  # fmt: skip
    moved, taken = repo.confirm_writes(
        db, booking_id=booking.id, slot_id=booking.slot_id, now=now, payment=payment, row=row
    )
    if not moved:
        raise StateConflict(
            "Only a hold that has not expired can be confirmed.", code="hold_not_active"
        )
    if not taken:
        raise StateConflict("The slot is no longer held for this booking.")
    _sync(
        booking,
        status=BookingStatus.BOOKED,
        booked_at=now,
        payment_account_hash=payment_account_hash,
        payment_account_masked=payment_account_masked,
        payment_reference=payment_reference,
    )


def cancel(
    db: Session,
    *,
    booking: Booking,
    patient_key: str,
    now: datetime,
    ctx: RequestContext,
    cooling: timedelta | None,
) -> SlotState:
    """Cancel a hold or a booking. The slot cools for ``cooling`` (drawn by the caller),
    or is retired for good when ``cooling`` is None."""
    was = booking.status
    if not repo.move_booking(
        db, booking_id=booking.id, expected=was, target=BookingStatus.CANCELLED, ended_at=now
    ):
        raise StateConflict("The booking changed while it was being cancelled; try again.")
    expected = SlotState.HELD if was == BookingStatus.HELD else SlotState.BOOKED
    kind = EventKind.HOLD_RELEASED if was == BookingStatus.HELD else EventKind.CANCELLED
    _booking_event(
        db,
        booking=booking,
        kind=kind,
        now=now,
        ctx=ctx,
        patient_key=patient_key,
    )
    if cooling is None:
        target = SlotState.RETIRED
        values: dict[str, datetime | None] = {"hold_expires_at": None}
        event, data = EventKind.RETIRED, {}
    else:
        reopen_at = now + cooling
        target, values = SlotState.COOLING, {"hold_expires_at": None, "reopen_at": reopen_at}
        event, data = EventKind.COOLING, {"reopen_at": reopen_at.isoformat()}
    if not repo.move_slot(
        db, slot_id=booking.slot_id, expected=[expected], target=target, **values
    ):
        raise StateConflict("The slot changed while the booking was being cancelled.")
    _booking_event(
        db,
        booking=booking,
        kind=event,
        now=now,
        ctx=SYSTEM,
        data=data,
    )
    _sync(booking, status=BookingStatus.CANCELLED, ended_at=now)
    return target


def withdraw_booking(
    db: Session,
    *,
    booking: Booking,
    now: datetime,
    ctx: RequestContext,
    reason: str,
    cooling: timedelta,
) -> bool:
    """The platform withdraws a held or confirmed booking of a subject it has blocked (a
    confirmed scalper): the booking becomes WITHDRAWN and its slot cools for ``cooling``
    like a cancelled one, then goes to the waitlist or a re-release.

    The slot itself is not withdrawn (that is the hospital's ``withdrawn`` event), so its
    ledger reads as a cancellation by the platform: ``cancelled`` (``hold_released`` for
    a hold) carrying the reason, then ``cooling``. False when the booking had changed
    (cancelled, expired, attended) before this could withdraw it.
    """
    was = booking.status
    if was not in (BookingStatus.HELD, BookingStatus.BOOKED) or not repo.move_booking(
        db, booking_id=booking.id, expected=was, target=BookingStatus.WITHDRAWN, ended_at=now
    ):
        return False
    reopen_at = now + cooling
    expected = SlotState.HELD if was == BookingStatus.HELD else SlotState.BOOKED
    if not repo.move_slot(
        db,
        slot_id=booking.slot_id,
        expected=[expected],
        target=SlotState.COOLING,
        hold_expires_at=None,
        reopen_at=reopen_at,
    ):
        raise StateConflict("The slot changed while the booking was being withdrawn.")
    _booking_event(
        db,
        booking=booking,
        kind=EventKind.HOLD_RELEASED if was == BookingStatus.HELD else EventKind.CANCELLED,
        now=now,
        ctx=ctx,
        patient_key=_patient_key(db, booking),
        data={"reason": reason, "withdrawn": True},
    )
    _booking_event(
        db,
        booking=booking,
        kind=EventKind.COOLING,
        now=now,
        ctx=SYSTEM,
        data={"reopen_at": reopen_at.isoformat(), "reason": reason},
    )
    _sync(booking, status=BookingStatus.WITHDRAWN, ended_at=now)
    return True


# What attendance does to the slot, and the ledger event it writes.
_ATTENDANCE = {
    BookingStatus.CHECKED_IN: (SlotState.ATTENDED, EventKind.CHECKED_IN),
    BookingStatus.NO_SHOW: (SlotState.NO_SHOW, EventKind.NO_SHOW),
}


def record_attendance(
    db: Session,
    *,
    booking: Booking,
    outcome: BookingStatus,
    patient_key: str,
    now: datetime,
    ctx: RequestContext,
) -> None:
    """The patient came (CHECKED_IN) or did not (NO_SHOW): the booking and slot end."""
    slot_state, event = _ATTENDANCE[outcome]
    if not repo.move_booking(
        db, booking_id=booking.id, expected=BookingStatus.BOOKED, target=outcome, ended_at=now
    ):
        raise StateConflict(
            f"Only a confirmed booking can be marked {outcome.value}.",
            code="booking_not_confirmed",
        )
    if not repo.move_slot(
        db, slot_id=booking.slot_id, expected=[SlotState.BOOKED], target=slot_state
    ):
        raise StateConflict("The slot is not booked.")
    _booking_event(
        db,
        booking=booking,
        kind=event,
        now=now,
        ctx=ctx,
        patient_key=patient_key,
    )
    _sync(booking, status=outcome, ended_at=now)


def withdraw_slot(
    db: Session, *, slot: Slot, now: datetime, ctx: RequestContext, reason: str
) -> Booking | None:
    """The hospital withdrew this slot (session cancelled or capacity lowered).

    Any pending booking on it becomes WITHDRAWN and is returned so the caller can notify.
    """
    booking = repo.occupying_for_slot(db, slot.id)
    withdrawn: Booking | None = None
    if booking is not None and booking.status in (BookingStatus.HELD, BookingStatus.BOOKED):
        if not repo.move_booking(
            db,
            booking_id=booking.id,
            expected=booking.status,
            target=BookingStatus.WITHDRAWN,
            ended_at=now,
        ):
            raise StateConflict("The booking changed while the slot was being withdrawn.")
        _sync(booking, status=BookingStatus.WITHDRAWN)
        withdrawn = booking
    if not repo.move_slot(
        db,
        slot_id=slot.id,
        expected=[
            SlotState.OPEN,
            SlotState.HELD,
            SlotState.BOOKED,
            SlotState.COOLING,
            SlotState.RETIRED,
        ],
        target=SlotState.WITHDRAWN,
        hold_expires_at=None,
        reopen_at=None,
    ):
        raise StateConflict(
            "Only a slot that has not been used can be withdrawn.", code="slot_not_withdrawable"
        )
    ledger.record(
        db,
        slot_id=slot.id,
        kind=EventKind.WITHDRAWN,
        at=now,
        recorded_at=now,
        ctx=ctx,
        booking_id=withdrawn.id if withdrawn else None,
        patient_key=_patient_key(db, withdrawn) if withdrawn else None,
        data={"reason": reason},
    )
    _sync(slot, state=SlotState.WITHDRAWN)
    return withdrawn


def _patient_key(db: Session, booking: Booking) -> str | None:
    return repo.patient_key(db, booking.patient_id)


def _sync(obj: object, **values: object) -> None:
    """Mirror a compare-and-set result onto a loaded object without marking it dirty.

    Assigning attributes would make the ORM write them back at the next flush and could
    overwrite a later compare-and-set (e.g. re-release then claim in one transaction).
    """
    for name, value in values.items():
        set_committed_value(obj, name, value)


def _booking_event(
    db: Session,
    *,
    booking: Booking,
    kind: EventKind,
    now: datetime,
    ctx: RequestContext,
    at: datetime | None = None,
    patient_key: str | None = None,
    data: dict[str, Any] | None = None,
) -> None:
    """Append the ledger row of a change to ``booking``'s slot (``at``: when it happened,
    if not now, e.g. a hold's expiry instant), an ORM row for the next flush, which
    batches a sweep's many. (A confirmation writes its row at once: ``confirm``.)"""
    ledger.add_row(
        db,
        ledger.entry_row(
            slot_id=booking.slot_id, kind=kind, at=at or now, recorded_at=now, ctx=ctx,
            booking_id=booking.id, patient_key=patient_key, data=data,
        ),
    )  # fmt: skip
