"""Release batches: the holds of a release's first seconds are drawn, not raced.

For a department-day whose effective mode is ``release_batch`` (``modes.py``), a hold that
arrives in ``[release, release + window)`` does not claim a slot: it enters the batch
(:func:`enter`) and is answered 202 with the entry and the time of the result. The batch
is a ``draws`` row of kind ``release_batch`` (its commitment published at the push, like a
draw's) whose entries are ``intents`` without a pre-authorisation; at the window's end the
worker runs it with the draw machinery (``drawing.run_draw``: the same shuffle, screening,
blacklist check and published record, so ``fairslot draw verify`` re-runs it). Its winners
are held through ``bookings.hold`` and pay within the hold time like anyone who held; the
losers are told with alternatives; then the leftovers sell first-come. Until the batch has
run its sessions are off sale at the pool (``availability.repository.session_on_sale``),
so no channel and no shortcut can race it.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.orm import Session

from fairslot.allocation import batch_repository as batch_repo
from fairslot.allocation import batch_rules, modes, opening
from fairslot.allocation import repository as repo
from fairslot.allocation.batch_rules import Arrival
from fairslot.allocation.errors import BatchEntryNotFound, ReleaseBatchDrawing
from fairslot.allocation.models import Draw, Intent
from fairslot.allocation.states import AllocationMode, DrawKind, DrawStatus, IntentStatus
from fairslot.availability import repository as availability_repo
from fairslot.bookings import repository as booking_repo
from fairslot.bookings import service as bookings
from fairslot.bookings.errors import SlotUnavailable
from fairslot.bookings.policy import BookingPolicy
from fairslot.context import RequestContext
from fairslot.crypto import Protector
from fairslot.hospitals.models import Department
from fairslot.memo import hold_place_key, remember_in_transaction
from fairslot.patients.service import require_binding
from fairslot.schedules.models import ClinicSession
from fairslot.schedules.states import SessionStatus


@dataclass(frozen=True)
class Route:
    """Where a hold on a session goes: the batch's ``arrival`` and the batch row."""

    arrival: Arrival
    batch: Draw | None = None


@dataclass(frozen=True)
class Entered:
    entry: Intent
    batch: Draw
    created: bool  # False: the patient had entered already; the same entry is answered


def window_of(
    db: Session, *, department_id: int, session_date: date, default_seconds: int
) -> batch_rules.Window | None:
    """The batch window of a department-day: from its release for the hospital's
    ``batch_window_seconds`` (else the platform's). None: the day has no active session."""
    sessions = repo.department_day_sessions(
        db, department_id=department_id, session_date=session_date
    )
    found = batch_repo.department_with_hospital(db, department_id)
    if not sessions or found is None:
        return None
    seconds = batch_rules.window_seconds(
        hospital_seconds=found[1].batch_window_seconds, platform_default=default_seconds
    )
    return batch_rules.window(release_at=min(s.release_at for s, _ in sessions), seconds=seconds)


def ensure_batch(
    db: Session,
    *,
    department_id: int,
    session_date: date,
    protector: Protector,
    default_seconds: int,
    new_seed: Callable[[], str] = lambda: secrets.token_hex(32),
) -> Draw | None:
    """The department-day's batch, made on first need with a fresh secret seed whose
    commitment is published from then on. An existing row (a draw, or a batch whose
    window was fixed when it was made) is answered as it is. ``new_seed``: 64 hex
    digits from a cryptographic source (tests pass a seeded one to be repeatable)."""
    existing = repo.draw_for(db, department_id=department_id, session_date=session_date)
    if existing is not None:
        return existing
    window = window_of(
        db, department_id=department_id, session_date=session_date, default_seconds=default_seconds
    )
    if window is None:
        return None
    # The worker and a first hold may race to make it: the unique pair keeps one.
    return opening.open_draw(
        db,
        department_id=department_id,
        session_date=session_date,
        kind=DrawKind.RELEASE_BATCH,
        opens_at=window.opens_at,
        due_at=window.closes_at,
        seed=new_seed(),
        protector=protector,
    )


def route(
    db: Session,
    *,
    session: ClinicSession,
    department: Department,
    existing: Draw | None,
    now: datetime,
    protector: Protector,
    default_seconds: int,
) -> Route:
    """Where a hold on ``session`` arriving ``now`` goes, given its department-day's draw
    or batch row (``existing``, read with the session). ``FIRST_COME``: the ordinary hold
    (which the pool's gate still refuses while a draw or batch is pending)."""
    if existing is not None and existing.kind != DrawKind.RELEASE_BATCH:
        return Route(Arrival.FIRST_COME)  # a release draw's day: its own gate applies
    if existing is None and modes.effective(department) != AllocationMode.RELEASE_BATCH:
        return Route(Arrival.FIRST_COME)
    if existing is not None:
        window = batch_rules.Window(opens_at=existing.opens_at, closes_at=existing.due_at)
        drawn = existing.status == DrawStatus.DRAWN
    else:
        found = window_of(
            db,
            department_id=department.id,
            session_date=session.session_date,
            default_seconds=default_seconds,
        )
        if found is None:
            return Route(Arrival.FIRST_COME)
        window, drawn = found, False
    arrival = batch_rules.arrival(now=now, window=window, drawn=drawn)
    if arrival in (Arrival.ENTER, Arrival.DRAWING) and existing is None:
        existing = ensure_batch(
            db,
            department_id=department.id,
            session_date=session.session_date,
            protector=protector,
            default_seconds=default_seconds,
        )
    return Route(arrival, existing)


def still_sold_out(db: Session, *, session_id: int, channel_id: int, now: datetime) -> bool:
    """Whether a hold by session on ``session_id`` would now be refused ``session_full``
    as an ordinary first-come hold, read without writing anything: the session released
    and active; its department-day no release batch that could still take entries (none
    and the department not in release-batch mode, or a draw or batch already drawn); no
    slot free for the channel. The sold-out lane keeps a session it recalls as sold out
    by this (``api/sold_out_lane.py``); False leaves the decision to the hold itself."""
    place = availability_repo.hold_place(db, slot_id=None, session_id=session_id)
    if place is None:
        return False
    session, existing = place.session, place.draw
    if session.status != SessionStatus.ACTIVE or session.release_at > now:
        return False
    if existing is None:
        if modes.effective(place.department) == AllocationMode.RELEASE_BATCH:
            return False
    elif existing.status != DrawStatus.DRAWN:
        return False
    released, slot_id = availability_repo.first_free_slot(
        db, session_id=session_id, now=now, channel_id=channel_id
    )
    return released and slot_id is None


def hold_target(
    db: Session, *, slot_id: str | None, session_id: int | None, now: datetime
) -> tuple[ClinicSession, Department, Draw | None] | None:
    """The released, active session a hold asks for (by slot or by session), with its
    department and its day's draw or batch row (one statement: it is on every hold's
    path); None when there is none to enter (the ordinary hold then refuses)."""
    found = batch_repo.hold_target(db, session_id=session_id, slot_id=slot_id)
    if found is None:
        return None
    session = found[0]
    if session.status != SessionStatus.ACTIVE or session.release_at > now:
        return None
    return found


def entry_for_hold(
    db: Session,
    *,
    slot_id: str | None,
    session_id: int | None,
    account_id: int,
    patient_id: int,
    now: datetime,
    ctx: RequestContext,
    policy: BookingPolicy,
    protector: Protector,
) -> Entered | None:
    """The batch entry a hold makes when it arrives in a release batch's window; None
    when the hold is not part of a batch (the ordinary hold goes on). Between the
    window's end and the batch's run the hold is refused, to be retried in seconds: it
    is neither an entry (the window closed) nor a claim (the batch has first pick).

    The place it reads (session, department, zone, draw or batch row) is kept for the
    rest of the transaction (``memo.remember_in_transaction``): the hold that follows
    recalls it rather than reading the session and department again."""
    # By session, the session's first free slot comes with it (``bookings.first_free_slot``).
    place = availability_repo.hold_place(
        db, slot_id=slot_id, session_id=session_id, free_for=(now, ctx.channel_id or 0)
    )
    if place is None:
        return None
    remember_in_transaction(db, hold_place_key(slot_id=slot_id, session_id=session_id), place)
    session, department, existing = place.session, place.department, place.draw
    if session.status != SessionStatus.ACTIVE or session.release_at > now:
        return None
    found = route(
        db,
        session=session,
        department=department,
        existing=existing,
        now=now,
        protector=protector,
        default_seconds=policy.batch_window_seconds,
    )
    if found.arrival == Arrival.DRAWING:
        raise ReleaseBatchDrawing(
            "The release batch's window has closed and it is being drawn; ask again in a "
            "few seconds: the slots left will then be on sale.",
            retry_after=5,
        )
    if found.arrival != Arrival.ENTER or found.batch is None:
        return None
    return enter(
        db,
        batch=found.batch,
        session=session,
        account_id=account_id,
        patient_id=patient_id,
        now=now,
        ctx=ctx,
        policy=policy,
    )


def enter(
    db: Session,
    *,
    batch: Draw,
    session: ClinicSession,
    account_id: int,
    patient_id: int,
    now: datetime,
    ctx: RequestContext,
    policy: BookingPolicy,
) -> Entered:
    """Enter a patient in the batch; a repeated or parallel hold for the same patient —
    from any account or channel — answers the entry already made (one person, one chance:
    the unique (draw, patient) pair is the last guard)."""
    if batch.kind != DrawKind.RELEASE_BATCH or not batch_rules.Window(
        opens_at=batch.opens_at, closes_at=batch.due_at
    ).holds(now):
        raise ReleaseBatchDrawing(
            "The release batch's window has closed; it is being drawn. Ask again in a "
            "few seconds: the slots left will then be on sale.",
        )
    # Serialise this patient's concurrent requests, as a hold does.
    booking_repo.lock_patient(db, patient_id=patient_id)
    _, patient = require_binding(
        db, account_id=account_id, patient_id=patient_id, channel_id=ctx.channel_id
    )
    existing = repo.intent_of(db, draw_id=batch.id, patient_id=patient.id)
    if batch_rules.entry_answer(existing=existing.status if existing else None) == (
        batch_rules.EntryAnswer.SAME
    ):
        assert existing is not None
        return Entered(existing, batch, created=False)
    if now >= session.closes_at:
        raise SlotUnavailable(
            "Booking for this session has closed.",
            code="booking_closed",
            detail_zh="该时段已停止预约。",
        )
    # The rules a hold checks, now: nobody is led to hope for a slot they could not book
    # (the batch checks them again when it books the winner).
    bookings.check_rules(db, patient=patient, session=session, now=now, policy=policy)
    entry = Intent(
        draw_id=batch.id,
        patient_id=patient.id,
        account_id=account_id,
        channel_id=ctx.channel_id or 0,
        session_id=session.id,
        title=None,
        status=IntentStatus.REGISTERED,
        payment_account_hash=None,
        payment_account_masked=None,
        payment_reference=None,
        device_key=ctx.device_key,
        ip_key=ctx.ip_key,
        ip_label=ctx.ip_label,
        wifi_key=ctx.wifi_key,
        created_at=now,
    )
    # A parallel request for the same patient may get there first: that is the entry.
    entry, created = repo.insert_intent_once(db, entry)
    return Entered(entry, batch, created=created)


def get_entry(
    db: Session, *, entry_id: str, account_id: int, channel_id: int | None
) -> tuple[Intent, Draw]:
    """A batch entry, to an account bound to its patient (the entry answered to a second
    account's hold is visible to it too)."""
    found = batch_repo.batch_entry(db, entry_id)
    if found is None:
        raise BatchEntryNotFound("No release-batch entry has this id.")
    require_binding(
        db, account_id=account_id, patient_id=found[0].patient_id, channel_id=channel_id
    )
    return found
