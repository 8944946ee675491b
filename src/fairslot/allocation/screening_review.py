"""Reviewing entries held out of a draw: a reviewer clears one (it keeps its one chance)
or refuses it; an entry cleared after its draw gets what its place in the published order
would have won (``docs/draw-verification.md``, section 5). Every change is audited, has its
``screening_events`` row and tells the patient's channel; only flushes, the edge commits.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from fairslot.allocation import repository as draw_repo
from fairslot.allocation import rules
from fairslot.allocation import screening_repository as repo
from fairslot.allocation.errors import IntentNotFound, IntentNotHeld
from fairslot.allocation.models import Draw, Intent
from fairslot.allocation.screening_service import ACTOR, OWED_EN, OWED_ZH, REVIEW_REFUSED
from fairslot.allocation.states import DrawStatus, IntentStatus
from fairslot.allocation.verification import published
from fairslot.bookings import service as bookings
from fairslot.bookings.policy import BookingPolicy
from fairslot.context import RequestContext
from fairslot.errors import DomainError
from fairslot.notifications import service as notify
from fairslot.staff import audit
from fairslot.staff.audit import StaffActor

# -- clearing and refusing (reviewers) ------------------------------------------------------


@dataclass(frozen=True)
class Clearance:
    intent: Intent
    outcome: str  # "registered" (before the draw), "won", "owed" or "lost" (after it)
    booking_id: str | None = None


def clear(
    db: Session,
    *,
    intent_id: str,
    actor: StaffActor,
    reason: str,
    now: datetime,
    policy: BookingPolicy | None,
    rng: random.Random | None,
) -> Clearance:
    """A reviewer clears a held entry (audited ``intent.clear``).

    Before the draw it is registered again and drawn normally. After the draw the
    published order decides, so that one chance stays one chance: the walk is re-run with
    the entry not held out; if its place would have lost, it is LOST like every other
    loser; if it would have won, it is booked into the first free slot it accepts now
    (the draw's leftovers or a returned slot) or, with none free, it is OWED the next one
    (the worker's :func:`settle_owed`; also when no ``policy`` is given)."""
    intent = _held(db, intent_id)
    draw = draw_repo.get_draw(db, intent.draw_id)
    assert draw is not None
    audit.record(
        db,
        actor=actor,
        action="intent.clear",
        target_kind="intent",
        target_id=intent.id,
        now=now,
        reason=reason,
        data={"draw_id": draw.id, "case_id": intent.case_id, "reasons": intent.held_reasons},
    )
    target: IntentStatus
    decided_at: datetime | None
    if draw.status == DrawStatus.OPEN and now < draw.due_at:
        target, decided_at = IntentStatus.REGISTERED, None  # back in before the draw
    else:
        would_win = _would_have_won(draw, intent.id)
        target = IntentStatus.OWED if would_win else IntentStatus.LOST
        decided_at = now
    if not repo.move(
        db,
        intent_id=intent.id,
        expected=IntentStatus.HELD,
        target=target,
        cleared_at=now,
        decided_at=decided_at,
    ):
        raise IntentNotHeld("The entry changed while being cleared; reload and try again.")
    outcome = target.value
    repo.add_event(
        db,
        intent=intent,
        kind="cleared",
        at=now,
        actor=actor.username,
        staff_id=actor.staff_id,
        case_id=intent.case_id,
        data={"outcome": outcome, "reason": reason[:500]},
    )
    booking_id = None
    if outcome == IntentStatus.OWED.value and policy is not None and rng is not None:
        booking_id = _book_owed(
            db, intent=_reload(db, intent.id), draw=draw, now=now, policy=policy, rng=rng
        )
        outcome = IntentStatus.WON.value if booking_id else outcome
    _tell(db, intent=intent, outcome=outcome, booking_id=booking_id, now=now)
    return Clearance(intent=_reload(db, intent.id), outcome=outcome, booking_id=booking_id)


def refuse(db: Session, *, intent_id: str, actor: StaffActor, reason: str, now: datetime) -> Intent:
    """A reviewer keeps a held entry out (audited ``intent.refuse``): REFUSED, reason
    ``review_refused``, the pre-authorisation released."""
    intent = _held(db, intent_id)
    audit.record(
        db,
        actor=actor,
        action="intent.refuse",
        target_kind="intent",
        target_id=intent.id,
        now=now,
        reason=reason,
        data={"draw_id": intent.draw_id, "case_id": intent.case_id},
    )
    if not repo.move(
        db,
        intent_id=intent.id,
        expected=IntentStatus.HELD,
        target=IntentStatus.REFUSED,
        reason=REVIEW_REFUSED,
        decided_at=now,
    ):
        raise IntentNotHeld("The entry changed while being refused; reload and try again.")
    repo.add_event(
        db,
        intent=intent,
        kind="refused",
        at=now,
        actor=actor.username,
        staff_id=actor.staff_id,
        case_id=intent.case_id,
        reasons=[REVIEW_REFUSED],
        data={"reason": reason[:500]},
    )
    _tell(db, intent=intent, outcome=IntentStatus.REFUSED.value, booking_id=None, now=now)
    return _reload(db, intent.id)


def settle_case(
    db: Session,
    *,
    case_id: int,
    confirmed: bool,
    actor: StaffActor,
    reason: str,
    now: datetime,
    policy: BookingPolicy | None = None,
    rng: random.Random | None = None,
) -> int:
    """A case was closed: the entries it still holds are refused (confirmed: a
    scalper's) or cleared (dismissed: not a scalper), each audited. How many."""
    settled = 0
    for intent, _, _ in repo.held_of_case(db, case_id=case_id):
        if intent.status != IntentStatus.HELD:
            continue
        if confirmed:
            refuse(db, intent_id=intent.id, actor=actor, reason=reason, now=now)
        else:
            clear(
                db, intent_id=intent.id, actor=actor, reason=reason, now=now, policy=policy, rng=rng
            )
        settled += 1
    return settled


def settle_owed(db: Session, *, now: datetime, policy: BookingPolicy, rng: random.Random) -> int:
    """The worker's pass over OWED entries: each is booked into the first free slot it
    accepts, before the slot goes to anyone else through this pass; one whose sessions
    have all closed is LOST. Returns how many were booked."""
    booked = 0
    for intent in repo.owed(db):
        draw = draw_repo.get_draw(db, intent.draw_id)
        assert draw is not None
        booking_id = _book_owed(db, intent=intent, draw=draw, now=now, policy=policy, rng=rng)
        if booking_id:
            booked += 1
            _tell(db, intent=intent, outcome=IntentStatus.WON.value, booking_id=booking_id, now=now)
        elif not _sessions_open(db, draw=draw, now=now) and repo.move(
            db,
            intent_id=intent.id,
            expected=IntentStatus.OWED,
            target=IntentStatus.LOST,
            decided_at=now,
        ):
            repo.add_event(
                db,
                intent=intent,
                kind="remedy_expired",
                at=now,
                actor=ACTOR,
                case_id=intent.case_id,
            )
            _tell(db, intent=intent, outcome=IntentStatus.LOST.value, booking_id=None, now=now)
    return booked


def _would_have_won(draw: Draw, intent_id: str) -> bool:
    """Re-run the draw's published walk with this entry not held out."""
    record = published(draw)
    if intent_id not in {e.intent_id for e in record.entries}:
        return False
    again = rules.draw(
        seed=record.seed,
        algorithm=record.algorithm,
        entries=record.entries,
        slots=record.slots,
        refused=record.refused,
        held_out=set(record.held_out) - {intent_id},
    )
    return again.get(intent_id) is not None


def _book_owed(
    db: Session,
    *,
    intent: Intent,
    draw: Draw,
    now: datetime,
    policy: BookingPolicy,
    rng: random.Random,
) -> str | None:
    """Book the owed entry into the first free slot it accepts; the booking id or None."""
    sessions = draw_repo.department_day_sessions(
        db, department_id=draw.department_id, session_date=draw.session_date
    )
    titles = {s.id: title for s, title in sessions}
    entry = rules.Entry(
        intent_id=intent.id,
        session_id=intent.session_id,
        title=intent.title.value if intent.title else None,
        channel_id=intent.channel_id,
    )
    free = [
        rules.FreeSlot(
            slot_id=slot.id,
            session_id=slot.session_id,
            number=slot.number,
            title=titles[slot.session_id],
            reserved_for=slot.reserved_channel_id
            if slot.reserved_channel_id is not None
            and (slot.reserved_until is None or slot.reserved_until > now)
            else None,
        )
        for slot, _ in draw_repo.free_slots_for_draw(db, session_ids=list(titles), now=now)
    ]
    ctx = RequestContext(
        actor=f"draw:{draw.id}:remedy",
        channel_id=intent.channel_id,
        account_id=intent.account_id,
        device_key=intent.device_key,
        ip_key=intent.ip_key,
        ip_label=intent.ip_label,
        wifi_key=intent.wifi_key,
        payment_account_hash=intent.payment_account_hash,
    )
    while (slot := rules.pick(entry, free)) is not None:
        free.remove(slot)
        try:
            with db.begin_nested():
                booking = bookings.hold(
                    db,
                    account_id=intent.account_id,
                    patient_id=intent.patient_id,
                    slot_id=slot.slot_id,
                    now=now,
                    ctx=ctx,
                    policy=policy,
                    rng=rng,
                )
                if intent.payment_account_hash and intent.payment_account_masked:
                    bookings.confirm_preauthorised(
                        db,
                        booking=booking,
                        now=now,
                        ctx=ctx,
                        payment_account_hash=intent.payment_account_hash,
                        payment_account_masked=intent.payment_account_masked,
                        payment_reference=intent.payment_reference or "",
                        feed_extra={"draw_id": draw.id, "remedy": "cleared_after_draw"},
                    )
        except DomainError as exc:
            if exc.code in {"slot_taken", "slot_not_found", "slot_unavailable", "booking_conflict"}:
                continue  # taken meanwhile: the next one
            return None  # a booking rule refuses the patient now: stays owed, retried
        if not repo.move(
            db,
            intent_id=intent.id,
            expected=IntentStatus.OWED,
            target=IntentStatus.WON,
            booking_id=booking.id,
            decided_at=now,
        ):
            return None
        repo.add_event(
            db,
            intent=intent,
            kind="remedy_booked",
            at=now,
            actor=ACTOR,
            case_id=intent.case_id,
            data={"booking_id": booking.id, "slot_id": slot.slot_id},
        )
        return booking.id
    return None


def _sessions_open(db: Session, *, draw: Draw, now: datetime) -> bool:
    return any(
        s.closes_at > now
        for s, _ in draw_repo.department_day_sessions(
            db, department_id=draw.department_id, session_date=draw.session_date
        )
    )


def _tell(
    db: Session, *, intent: Intent, outcome: str, booking_id: str | None, now: datetime
) -> None:
    payload: dict[str, object] = {
        "intent_id": intent.id,
        "draw_id": intent.draw_id,
        "patient_id": intent.patient_id,
        "status": outcome,
    }
    if outcome == IntentStatus.OWED.value:
        payload |= {"message_zh": OWED_ZH, "message_en": OWED_EN}
    if outcome in {IntentStatus.LOST.value, IntentStatus.REFUSED.value}:
        payload["preauthorisation"] = "released"
    notify.to_channel(
        db,
        channel_id=intent.channel_id,
        kind="intent_review_decided",
        at=now,
        account_id=intent.account_id,
        booking_id=booking_id,
        payload=payload,
    )


def _held(db: Session, intent_id: str) -> Intent:
    intent = draw_repo.get_intent(db, intent_id)
    if intent is None:
        raise IntentNotFound("No intent has this id.")
    if intent.status != IntentStatus.HELD:
        raise IntentNotHeld("This entry is not held for review.")
    return intent


def _reload(db: Session, intent_id: str) -> Intent:
    intent = draw_repo.get_intent(db, intent_id)
    assert intent is not None
    return intent


# -- what a reviewer reads on the case page ---------------------------------------------------


@dataclass(frozen=True)
class HeldEntry:
    """One entry a case holds or held, as the case page lists it (patient masked)."""

    intent_id: str
    draw_id: int
    session_date: str
    patient: str
    status: str
    reasons: tuple[str, ...]
    held_at: datetime | None
    cleared_at: datetime | None
    draw_run: bool

    @property
    def held(self) -> bool:
        return self.status == IntentStatus.HELD.value


def held_entries(db: Session, *, case_id: int) -> list[HeldEntry]:
    """Every draw entry the case holds or held, oldest draw first. The case page that
    shows them is audited (``case.view``)."""
    return [
        HeldEntry(
            intent_id=intent.id,
            draw_id=draw.id,
            session_date=draw.session_date.isoformat(),
            patient=f"{patient.name_masked} ****{patient.id_last4}",
            status=intent.status.value,
            reasons=tuple(intent.held_reasons or ()),
            held_at=intent.held_at,
            cleared_at=intent.cleared_at,
            draw_run=draw.status == DrawStatus.DRAWN,
        )
        for intent, patient, draw in repo.held_of_case(db, case_id=case_id)
    ]
