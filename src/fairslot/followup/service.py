"""Follow-up calls by customer service: the daily random sample of confirmed bookings,
taking the next call, recording its outcome, and feeding that outcome to the case.

When every flagged call of a case waiting on calls has its outcome, the case goes back to
the review queue (``calls_done``) with the outcomes in its evidence. Services only flush.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from fairslot.crypto import Protector
from fairslot.followup import repository as repo
from fairslot.followup import sampling, transitions
from fairslot.followup.errors import CallConflict, CallNotFound
from fairslot.followup.models import CallTask
from fairslot.followup.schemas import (
    CallBooking,
    CallDesk,
    CallPatient,
    CallRow,
    CallTaskView,
    SampleReport,
)
from fairslot.followup.states import CallOutcome, CallReason, CallStatus
from fairslot.patients.identity import age_on, mask_name, mask_phone
from fairslot.staff import audit, claims
from fairslot.staff.audit import StaffActor


def sample(
    db: Session,
    *,
    day: date,
    rate: float,
    limit: int,
    rng: random.Random,
    now: datetime,
    tz: str,
    actor: StaffActor,
) -> SampleReport:
    """Create sample call tasks (``sample:<booking id>``) for a random ``rate`` of the
    bookings confirmed on the local ``day`` that still stand, at most ``limit``.
    Idempotent: a re-run over the same bookings adds nothing."""
    start, end = sampling.day_window(day, tz=tz)
    population = repo.confirmed_between(db, start=start, end=end)
    already = repo.sampled_between(db, start=start, end=end)
    patients = dict(population)
    chosen = sampling.choose(
        [booking_id for booking_id, _ in population],
        already=already,
        rate=rate,
        limit=limit,
        rng=rng,
    )
    tasks = [
        CallTask(
            dedupe_key=f"sample:{booking_id}",
            reason=CallReason.SAMPLE,
            status=CallStatus.PENDING,
            patient_id=patients[booking_id],
            booking_id=booking_id,
            question="Routine check: did the patient book this visit for themselves, "
            "and do they intend to come?",
            version=1,
            created_at=now,
        )
        for booking_id in chosen
    ]
    db.add_all(tasks)
    db.flush()
    audit.record(
        db,
        actor=actor,
        action="calls.sample",
        target_kind="day",
        target_id=day.isoformat(),
        now=now,
        data={"rate": rate, "limit": limit, "confirmed": len(population), "created": len(tasks)},
    )
    return SampleReport(
        day=day,
        confirmed=len(population),
        already_sampled=len(already),
        created=[t.id for t in tasks],
    )


def take_next(db: Session, *, actor: StaffActor, now: datetime, lock_minutes: int) -> CallTask:
    """Claim the next call (flagged before sample, then the oldest); two agents never get
    the same one: a compare-and-set claim, and a lost race tries the next task."""
    claims.require_own_account(actor, items="Calls")
    locked_until = now + timedelta(minutes=lock_minutes)

    def claim(task: CallTask) -> bool:
        try:
            transitions.take(db, task=task, actor=actor, now=now, locked_until=locked_until)
        except CallConflict:
            return False  # another agent claimed it first
        return True

    taken = claims.claim_first(
        candidates=lambda tried, limit: repo.next_candidates(
            db, now=now, exclude=tried, limit=limit
        ),
        ident=lambda task: task.id,
        claim=claim,
    )
    if taken is None:
        raise CallNotFound(
            "No call is waiting.", code="queue_empty", detail_zh="目前没有待回访的任务。"
        )
    return taken


def require(db: Session, task_id: int) -> CallTask:
    task = repo.get(db, task_id)
    if task is None:
        raise CallNotFound("No call task has this id.", code="call_not_found")
    return task


def release(db: Session, *, task_id: int, actor: StaffActor, now: datetime) -> CallTask:
    task = require(db, task_id)
    _held(task, actor=actor, now=now, live=False)
    transitions.release(db, task=task, actor=actor, now=now)
    return task


def call_note(note: str | None) -> str | None:
    """An agent's note as it is kept: trimmed, at most 1,000 characters, None if empty."""
    return (note or "").strip()[:1000] or None


def complete_call(
    db: Session,
    *,
    task_id: int,
    outcome: CallOutcome,
    note: str | None,
    actor: StaffActor,
    now: datetime,
) -> CallTask:
    """The call's outcome on the task itself: it is done. A case's call is carried to its
    case by ``cases/calls.py::record_outcome``, which every desk calls (the call desk sits
    below the review queue and does not import it)."""
    task = require(db, task_id)
    _held(task, actor=actor, now=now)
    transitions.complete(db, task=task, actor=actor, now=now, outcome=outcome, note=call_note(note))
    return task


def view(
    db: Session,
    *,
    task: CallTask,
    actor: StaffActor,
    now: datetime,
    protector: Protector,
    tz: ZoneInfo,
    masked: bool = False,
) -> CallTaskView:
    """The call as customer service sees it. The agent holding a live claim gets the phone
    number in full, to dial it; that view of personal data is audited.

    ``masked`` (the console's call page): name and number are masked for everyone and
    nothing is audited; the agent holding the call asks for the number when about to
    dial (:func:`reveal_phone`)."""
    patient = repo.patient(db, task.patient_id)
    if patient is None:  # a foreign key holds it
        raise CallNotFound("The call's patient is gone.", code="call_not_found")
    phone = protector.decrypt(patient.phone_encrypted)
    in_full = not masked and _holds(task, actor=actor, now=now)
    if in_full:
        audit.record(
            db,
            actor=actor,
            action="call.view_phone",
            target_kind="call",
            target_id=task.id,
            now=now,
            data={"patient_id": patient.id},
        )
    summary = repo.booking_summary(db, task.booking_id) if task.booking_id else None
    booking = None
    if summary is not None:
        b, department, doctor, session, channel = summary
        booking = CallBooking(
            booking_id=b.id,
            status=b.status.value,
            department=department.name,
            doctor=doctor.name,
            doctor_title=doctor.title.value,
            session_date=session.session_date,
            period=session.period.value,
            channel=channel.name,
            booked_at=b.booked_at.astimezone(tz) if b.booked_at else None,
        )
    return CallTaskView(
        task_id=task.id,
        reason=task.reason,
        status=task.status,
        case_id=task.case_id,
        question=task.question,
        patient=CallPatient(
            patient_id=patient.id,
            # In the clear only for the agent holding the call, in the audited view.
            name=protector.decrypt(patient.name_encrypted) if in_full else patient.name_masked,
            phone=phone if in_full else mask_phone(phone),
            phone_in_full=in_full,
            sex=patient.sex.value,
            age=age_on(patient.birth_date, now.astimezone(tz).date()),
        ),
        booking=booking,
        created_at=task.created_at.astimezone(tz),
        locked_until=task.locked_until.astimezone(tz) if task.locked_until else None,
        outcome=task.outcome,
        note=task.note,
        done_at=task.done_at.astimezone(tz) if task.done_at else None,
    )


def reveal_phone(
    db: Session, *, task_id: int, actor: StaffActor, now: datetime, protector: Protector
) -> str:
    """The patient's phone number in full, for the agent holding a live claim on the call
    and about to dial it. Each reveal is audited (``call.reveal_phone``): it is personal
    data read on purpose."""
    task = require(db, task_id)
    _held(task, actor=actor, now=now)
    patient = repo.patient(db, task.patient_id)
    if patient is None:  # a foreign key holds it
        raise CallNotFound("The call's patient is gone.", code="call_not_found")
    audit.record(
        db,
        actor=actor,
        action="call.reveal_phone",
        target_kind="call",
        target_id=task.id,
        now=now,
        data={"patient_id": patient.id, "case": task.case_id},
    )
    return protector.decrypt(patient.phone_encrypted)


def desk(
    db: Session, *, actor: StaffActor, now: datetime, tz: ZoneInfo, limit: int = 20
) -> CallDesk:
    """Customer service's lists: the calls ``actor`` holds, the next ones waiting (and how
    many wait), and the latest with an outcome. Names are masked."""
    mine = repo.held_by(db, staff_id=actor.staff_id, now=now) if actor.staff_id else []
    return CallDesk(
        mine=[_row(r, tz=tz) for r in mine],
        waiting=[_row(r, tz=tz) for r in repo.waiting(db, now=now, limit=limit)],
        waiting_total=repo.waiting_count(db, now=now),
        done=[_row(r, tz=tz) for r in repo.latest_done(db, limit=limit)],
    )


def _row(row: repo.DeskRow, *, tz: ZoneInfo) -> CallRow:
    task, name, department, day, agent = row
    return CallRow(
        task_id=task.id,
        reason=task.reason,
        status=task.status,
        case_id=task.case_id,
        patient=mask_name(name),
        department=department,
        session_date=day,
        created_at=task.created_at.astimezone(tz),
        locked_until=task.locked_until.astimezone(tz) if task.locked_until else None,
        agent=agent,
        outcome=task.outcome,
        done_at=task.done_at.astimezone(tz) if task.done_at else None,
    )


def is_held_by(task: CallTask, *, actor: StaffActor, now: datetime) -> bool:
    """Whether ``actor`` holds a live claim on the call: may reveal the number, record the
    outcome or put the call back."""
    return _holds(task, actor=actor, now=now)


def _holds(task: CallTask, *, actor: StaffActor, now: datetime) -> bool:
    return (
        task.status == CallStatus.TAKEN
        and actor.staff_id is not None
        and task.assigned_to == actor.staff_id
        and task.locked_until is not None
        and task.locked_until > now
    )


def _held(task: CallTask, *, actor: StaffActor, now: datetime, live: bool = True) -> None:
    if task.status == CallStatus.DONE:
        raise CallConflict("This call already has its outcome.", code="call_done")
    if task.status != CallStatus.TAKEN:
        raise CallConflict(
            "Take the call first (POST /staff/v1/calls/next).", code="call_not_taken"
        )
    if actor.staff_id is None or task.assigned_to != actor.staff_id:
        raise CallConflict("Another agent holds this call.", code="call_not_yours")
    if live and (task.locked_until is None or task.locked_until <= now):
        raise CallConflict(
            "Your claim on this call lapsed; take the next call again.",
            code="call_lock_lapsed",
        )
