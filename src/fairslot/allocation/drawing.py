"""Running a due release draw: once, and booking its winners through the normal path.

The draw is claimed with a compare-and-set on its status and version (a second worker
finds nothing to claim), marked DRAWN before any booking so the sale gate lets its own
holds through, and its winners are held and confirmed like any patient's booking, so
every booking rule and ledger row applies to them.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from fairslot.allocation import repository as repo
from fairslot.allocation import rules, screening, screening_repository, screening_service
from fairslot.allocation.models import Draw, Intent
from fairslot.allocation.screening_ports import CaseDesk
from fairslot.allocation.service import BLACKLISTED
from fairslot.allocation.states import DrawKind, DrawStatus, IntentStatus
from fairslot.alternatives.service import alternatives_for
from fairslot.bookings import service as bookings
from fairslot.bookings.models import Booking
from fairslot.bookings.policy import BookingPolicy
from fairslot.bookings.states import BookingStatus
from fairslot.context import RequestContext
from fairslot.crypto import Protector
from fairslot.errors import DomainError
from fairslot.notifications import service as notify


@dataclass
class DrawOutcome:
    draw_id: int
    won: list[str] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)
    held_out: dict[str, str] = field(default_factory=dict)  # kept out before the walk


def run_draw(
    db: Session,
    *,
    draw: Draw,
    now: datetime,
    policy: BookingPolicy,
    rng: random.Random,
    protector: Protector,
    desk: CaseDesk,
) -> DrawOutcome | None:
    """Run a due draw once; None when it is not due or another runner has it. ``desk``
    is what the pre-draw screening reads and files of the review cases."""
    if draw.status != DrawStatus.OPEN or now < draw.due_at:
        return None
    seed = protector.decrypt(draw.seed_encrypted)
    if rules.commitment(seed) != draw.seed_commitment:
        raise DomainError("The stored seed does not match its commitment.", code="seed_mismatch")
    # DRAWN first, in this transaction: that opens the sale gate for the draw's own
    # holds, and a second runner's compare-and-set finds nothing to claim.
    if not repo.mark_drawn(db, draw_id=draw.id, version=draw.version, seed=seed, now=now):
        return None
    # The entries: registered intents and those already held out for review.
    intents = {i.id: i for i in screening_repository.screenable(db, draw_id=draw.id)}
    # Pre-draw screening (screening.py) over the entrants: an entrant blocked since
    # registering (issue 13, item 8), or held out for review, keeps a place in the
    # published order but is offered nothing. The published reason of a held entry says
    # only that it is under review, never what was detected.
    outcome = DrawOutcome(draw_id=draw.id)
    screened = screening_service.hold_suspects(
        db, draw=draw, intents=list(intents.values()), now=now, protector=protector, desk=desk
    )
    outcome.held_out = dict.fromkeys(screened.blacklisted, BLACKLISTED) | dict.fromkeys(
        screened.held, screening.PUBLIC_HELD
    )
    entries = [
        rules.Entry(
            intent_id=i.id,
            session_id=i.session_id,
            title=i.title.value if i.title else None,
            channel_id=i.channel_id,
        )
        for i in intents.values()
    ]
    titles = {
        s.id: title
        for s, title in repo.department_day_sessions(
            db, department_id=draw.department_id, session_date=draw.session_date
        )
    }
    free = [
        rules.FreeSlot(
            slot_id=slot.id,
            session_id=slot.session_id,
            number=slot.number,
            title=titles[slot.session_id],
            reserved_for=(
                slot.reserved_channel_id
                if slot.reserved_channel_id is not None
                and (slot.reserved_until is None or slot.reserved_until > now)
                else None
            ),
        )
        for slot, _ in repo.free_slots_for_draw(db, session_ids=list(titles), now=now)
    ]
    booked: dict[str, Booking] = {}

    def book(entry: rules.Entry, slot: rules.FreeSlot) -> bool:
        intent = intents[entry.intent_id]
        try:
            with db.begin_nested():
                booked[intent.id] = _book_winner(
                    db,
                    draw=draw,
                    intent=intent,
                    slot_id=slot.slot_id,
                    now=now,
                    policy=policy,
                    rng=rng,
                )
        except DomainError as exc:
            outcome.refused[intent.id] = exc.code
            return False
        return True

    assignment = rules.walk(
        seed=seed,
        algorithm=draw.algorithm,
        entries=entries,
        slots=free,
        book=book,
        held_out=outcome.held_out,
    )
    # What anyone needs to re-run the draw (docs/draw-verification.md), nothing personal:
    # the entries by their opaque intent id, the free slots, and why an entry got nothing.
    result = {
        "algorithm": draw.algorithm,
        "entries": [
            {
                "intent_id": e.intent_id,
                "session_id": e.session_id,
                "title": e.title,
                "channel_id": e.channel_id,
            }
            for e in sorted(entries, key=lambda e: e.intent_id)
        ],
        "slots": [
            {
                "slot_id": s.slot_id,
                "session_id": s.session_id,
                "number": s.number,
                "title": s.title,
                "reserved_for": s.reserved_for,
            }
            for s in free
        ],
        "refused": sorted(outcome.refused),
        "held_out": sorted(outcome.held_out),
        "reasons": dict(sorted((outcome.refused | outcome.held_out).items())),
        "assignment": assignment,
    }
    repo.record_result(
        db, draw_id=draw.id, inputs_digest=rules.inputs_digest(intents), result=result
    )
    for intent_id in assignment:
        if intent_id in screened.held:
            continue  # stays HELD, under review: cleared, it is settled by its place
        _settle_intent(
            db,
            draw=draw,
            intent=intents[intent_id],
            booking=booked.get(intent_id),
            reason=outcome.refused.get(intent_id) or outcome.held_out.get(intent_id),
            now=now,
            outcome=outcome,
            policy=policy,
        )
    db.expire(draw)
    return outcome


def _book_winner(
    db: Session,
    *,
    draw: Draw,
    intent: Intent,
    slot_id: str,
    now: datetime,
    policy: BookingPolicy,
    rng: random.Random,
) -> Booking:
    """Hold and confirm through the normal path, as the intent's account and device,
    with the intent's pre-authorised payment. The ledger names the draw as the actor."""
    ctx = RequestContext(
        actor=f"draw:{draw.id}",
        channel_id=intent.channel_id,
        account_id=intent.account_id,
        device_key=intent.device_key,
        ip_key=intent.ip_key,
        ip_label=intent.ip_label,
        wifi_key=intent.wifi_key,
        payment_account_hash=intent.payment_account_hash,
    )
    # An entry made with a pre-authorisation (every draw intent; a batch entry made by an
    # intent before the window closed) is booked at once with it — in the same one
    # booking function (``bookings.booking.book_slot``) as every other path. A batch
    # entry made by a hold has nothing pre-authorised: its winner holds the slot and pays
    # within the hold time like anyone who held.
    preauthorised = None
    if draw.kind != DrawKind.RELEASE_BATCH or intent.payment_account_hash:
        assert intent.payment_account_hash and intent.payment_account_masked
        preauthorised = bookings.Preauthorised(
            payment_account_hash=intent.payment_account_hash,
            payment_account_masked=intent.payment_account_masked,
            payment_reference=intent.payment_reference or "",
            feed_extra={"draw_id": draw.id},
        )
    return bookings.hold(
        db,
        account_id=intent.account_id,
        patient_id=intent.patient_id,
        slot_id=slot_id,
        now=now,
        ctx=ctx,
        policy=policy,
        rng=rng,
        preauthorised=preauthorised,
    )


def _settle_intent(
    db: Session,
    *,
    draw: Draw,
    intent: Intent,
    booking: Booking | None,
    reason: str | None,
    now: datetime,
    outcome: DrawOutcome,
    policy: BookingPolicy,
) -> None:
    payload: dict[str, Any] = {
        "intent_id": intent.id,
        "draw_id": draw.id,
        "seed_commitment": draw.seed_commitment,
        "patient_id": intent.patient_id,
    }
    # A batch's entrants are told as ``batch_*`` (their winners hold, to pay by
    # ``pay_by``; nothing was pre-authorised), a draw's as ``draw_*``.
    batch = draw.kind == DrawKind.RELEASE_BATCH
    prefix = "batch" if batch else "draw"
    released = {} if batch else {"preauthorisation": "released"}
    if booking is not None:
        target, kind = IntentStatus.WON, f"{prefix}_won"
        outcome.won.append(intent.id)
        payload |= {"booking_id": booking.id, "session_id": booking.session_id}
        if batch:
            payload |= {"status": booking.status.value}
            if booking.status == BookingStatus.HELD:
                payload |= {"pay_by": booking.expires_at.isoformat()}
    elif reason is not None:
        target, kind = IntentStatus.REFUSED, f"{prefix}_refused"
        payload |= {"reason": reason, **released}
    else:
        target, kind = IntentStatus.LOST, f"{prefix}_lost"
        outcome.lost.append(intent.id)
        payload |= {
            **released,
            "alternatives": _alternatives(db, draw=draw, intent=intent, now=now, policy=policy),
        }
    repo.move_intent(
        db,
        intent_id=intent.id,
        expected=intent.status,  # registered, or held and since blacklisted
        target=target,
        booking_id=booking.id if booking else None,
        reason=reason,
        decided_at=now,
    )
    notify.to_channel(
        db,
        channel_id=intent.channel_id,
        kind=kind,
        at=now,
        account_id=intent.account_id,
        booking_id=booking.id if booking else None,
        payload=payload,
    )


def _alternatives(
    db: Session, *, draw: Draw, intent: Intent, now: datetime, policy: BookingPolicy
) -> list[dict[str, Any]]:
    """A few ranked alternatives for a loser (the slots left after the draw among them)."""
    session_id = intent.session_id
    if session_id is None:
        sessions = repo.department_day_sessions(
            db, department_id=draw.department_id, session_date=draw.session_date
        )
        title = intent.title.value if intent.title else None
        session_id = next((s.id for s, t in sessions if t == title), None)
    if session_id is None:
        return []
    try:
        found = alternatives_for(
            db,
            session_id=session_id,
            patient_id=intent.patient_id,
            account_id=intent.account_id,
            now=now,
            channel_id=intent.channel_id,
            limits=policy.limits,
            limit=3,
        )
    except DomainError:
        return []  # e.g. the patient was unbound since: the loss stands on its own
    return [view.model_dump(mode="json") for view in found]
