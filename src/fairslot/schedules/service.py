"""Schedule use cases: a hospital pushes its sessions, changes them, withdraws them.

The platform never invents a slot: every slot is one the hospital pushed, and every change
a push asks for is carried out only where it cannot hurt a patient who already holds or
booked a slot. Imports are idempotent on (hospital, HIS session id): pushing the same
document twice changes nothing and writes nothing. Services only flush; the edge commits,
so an import is all-or-nothing.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from fairslot.bookings import transitions
from fairslot.channels import repository as channels
from fairslot.context import RequestContext
from fairslot.hospitals import repository as hospitals_repo
from fairslot.hospitals import service as hospitals
from fairslot.hospitals.errors import HospitalNotFound
from fairslot.hospitals.models import Department, Doctor, Hospital
from fairslot.hospitals.service import UpsertCounts, policy_of
from fairslot.ledger import service as ledger
from fairslot.ledger.events import Entry
from fairslot.schedules import repository as repo
from fairslot.schedules import withdrawal
from fairslot.schedules.changes import KEEP_WINDOW, SessionChange, StoredSession, decide
from fairslot.schedules.errors import ScheduleInvalid, WrongHospital
from fairslot.schedules.formats import ScheduleDocument, SessionSpec
from fairslot.schedules.models import ClinicSession, Slot
from fairslot.schedules.new_slots import (
    NewSlot,
    PushedSession,
    Reserving,
    new_slots,
    pushed_entries,
)
from fairslot.schedules.release import (
    ReleasePolicy,
    late_release_at,
    session_times,
    slot_windows,
)
from fairslot.schedules.schemas import (
    ImportReport,
    Outcome,
    SessionOutcome,
    UpsertSummary,
)
from fairslot.schedules.states import FREE_STATES, SessionStatus, SlotState


@dataclass(frozen=True)
class _Run:
    """What every session of one import needs to know."""

    hospital: Hospital
    policy: ReleasePolicy
    reserving: Sequence[Reserving]
    now: datetime
    ctx: RequestContext
    rng: random.Random
    late_release_minutes: tuple[int, int]


# Slots written per executemany (and their ledger rows): bounded memory, few round trips.
WRITE_CHUNK = 5000

# --- import ----------------------------------------------------------------------------


def import_schedule(
    db: Session,
    *,
    doc: ScheduleDocument,
    now: datetime,
    ctx: RequestContext,
    as_hospital: Hospital | None = None,
    rng: random.Random | None = None,
    late_release_minutes: tuple[int, int] = (5, 60),
) -> ImportReport:
    """Apply a schedule document; returns what happened to every session in it.

    ``as_hospital`` is the authenticated hospital, if any: a document for another hospital
    is refused. Departments and doctors in the document are upserted first. Slots pushed
    after their session's release time (a late push, a raised capacity) cool until a
    random time ``late_release_minutes`` ahead (``rng``: OS randomness by default).
    """
    hospital = target_hospital(db, doc=doc, as_hospital=as_hospital)
    check_unique_sessions(doc)
    hospitals_repo.lock(db, hospital_id=hospital.id)
    report = ImportReport(hospital=hospital.code)
    report.departments = _summary(
        hospitals.upsert_departments(db, hospital=hospital, specs=doc.departments)
    )
    check_doctor_departments(db, hospital=hospital, doc=doc)
    report.doctors = _summary(hospitals.upsert_doctors(db, hospital=hospital, specs=doc.doctors))

    run = _Run(
        hospital=hospital,
        policy=policy_of(hospital),
        reserving=[
            Reserving(
                channel_id=channel.id,
                share=channel.reserved_share,
                return_minutes=channel.reserve_return_minutes,
            )
            for channel in channels.list_active_reserving(db)
        ],
        now=now,
        ctx=ctx,
        rng=rng or random.SystemRandom(),
        late_release_minutes=late_release_minutes,
    )
    departments = hospitals_repo.departments_by_codes(
        db, hospital_id=hospital.id, codes={s.department for s in doc.sessions}
    )
    doctors = hospitals_repo.doctors_by_codes(
        db, hospital_id=hospital.id, codes={s.doctor for s in doc.sessions}
    )
    existing = repo.sessions_by_his_ids(
        db, hospital_id=hospital.id, his_session_ids=[s.his_session_id for s in doc.sessions]
    )
    created: list[ClinicSession] = []
    for spec in doc.sessions:
        department, doctor = departments.get(spec.department), doctors.get(spec.doctor)
        current = existing.get(spec.his_session_id)
        change, slots = _decide(
            db, spec=spec, current=current, department=department, doctor=doctor
        )
        if change.outcome == Outcome.REJECTED:
            outcome = _rejected(spec, change.reason or "rejected")
        elif current is None:
            assert department is not None and doctor is not None  # else rejected
            session = _new_session(run, spec=spec, department=department, doctor=doctor)
            db.add(session)
            created.append(session)
            outcome = SessionOutcome(
                session_id=spec.his_session_id, outcome=change.outcome, capacity=session.capacity
            )
        elif change.outcome == Outcome.UNCHANGED:
            outcome = _outcome(current, Outcome.UNCHANGED)
        else:
            assert department is not None and doctor is not None  # else rejected
            outcome = _update_session(
                db,
                run,
                session=current,
                slots=slots,
                change=change,
                spec=spec,
                department=department,
                doctor=doctor,
            )
        report.sessions.append(outcome)
    _push_new_sessions(db, run, sessions=created)
    db.flush()
    for outcome in report.sessions:
        setattr(report, outcome.outcome.value, getattr(report, outcome.outcome.value) + 1)
    return report


def target_hospital(
    db: Session, *, doc: ScheduleDocument, as_hospital: Hospital | None
) -> Hospital:
    if as_hospital is not None:
        if doc.hospital != as_hospital.code:
            raise WrongHospital(
                f"This API key belongs to hospital {as_hospital.code!r}; the document is for "
                f"{doc.hospital!r}. A hospital can push only its own schedule."
            )
        return as_hospital
    hospital = hospitals_repo.by_code(db, doc.hospital)
    if hospital is None:
        raise HospitalNotFound(f"No hospital has the code {doc.hospital!r}.")
    return hospital


def check_unique_sessions(doc: ScheduleDocument) -> None:
    # The readers in ``formats`` already refuse this; a document built in code might not.
    seen: set[str] = set()
    for index, spec in enumerate(doc.sessions):
        if spec.his_session_id in seen:
            raise ScheduleInvalid(
                [{"location": f"sessions[{index}].session_id", "message": "appears twice"}]
            )
        seen.add(spec.his_session_id)


def check_doctor_departments(
    db: Session, *, hospital: Hospital, doc: ScheduleDocument, pending: frozenset[str] = frozenset()
) -> None:
    """Every doctor's department is at the hospital (or among ``pending``: the document's
    own departments when they are not stored yet, for a preview)."""
    known = set(pending) | set(
        hospitals_repo.departments_by_codes(
            db, hospital_id=hospital.id, codes={d.department for d in doc.doctors}
        )
    )
    problems = [
        {
            "location": f"doctors[{index}].department",
            "message": f"doctor {doctor.code!r}: unknown department {doctor.department!r} "
            "(not at this hospital and not in 'departments')",
        }
        for index, doctor in enumerate(doc.doctors)
        if doctor.department not in known
    ]
    if problems:
        raise ScheduleInvalid(problems)


def _new_session(
    run: _Run, *, spec: SessionSpec, department: Department, doctor: Doctor
) -> ClinicSession:
    times = session_times(
        run.policy,
        session_date=spec.session_date,
        local_start=spec.local_start,
        local_end=spec.local_end,
    )
    # A session first heard of as withdrawn is kept (with no slots) so that its id can
    # never be activated later.
    active = spec.status == SessionStatus.ACTIVE
    return ClinicSession(
        hospital_id=run.hospital.id,
        his_session_id=spec.his_session_id,
        department_id=department.id,
        doctor_id=doctor.id,
        session_date=spec.session_date,
        period=spec.period,
        local_start=spec.local_start,
        local_end=spec.local_end,
        starts_at=times.starts_at,
        ends_at=times.ends_at,
        push_at=times.push_at,
        release_at=times.release_at,
        closes_at=times.closes_at,
        fee=spec.fee,
        capacity=spec.capacity if active else 0,
        status=spec.status,
        imported_at=run.now,
    )


def _push_new_sessions(db: Session, run: _Run, *, sessions: list[ClinicSession]) -> None:
    """Write the slots of new sessions and their ``pushed`` rows as plain rows, one
    executemany per ``WRITE_CHUNK`` slots (a city push is 100,000 slots: an ORM object
    per slot and per ledger row, and on SQLite a round trip per ledger row, held SQLite's
    write lock for a minute). Still one transaction: the edge commits the whole document
    or nothing, and SQLite's other writers wait for it (``bench push`` measures how long)."""
    if not sessions:
        return
    db.flush()  # the sessions' ids
    slots: list[NewSlot] = []
    entries: list[Entry] = []
    for session in sessions:
        pushed = pushed_session(session, hospital_code=run.hospital.code)
        added = _new_slots(run, session=pushed, numbers=range(1, session.capacity + 1))
        slots.extend(added)
        entries.extend(pushed_entries(pushed, slots=added))
        if len(slots) >= WRITE_CHUNK:
            _write(db, run, slots=slots, entries=entries)
            slots, entries = [], []
    _write(db, run, slots=slots, entries=entries)


def _write(db: Session, run: _Run, *, slots: list[NewSlot], entries: list[Entry]) -> None:
    repo.insert_slots(db, slots=slots)  # first: the ledger rows refer to them
    ledger.record_many(db, entries=entries, at=run.now, recorded_at=run.now, ctx=run.ctx)


def _decide(
    db: Session,
    *,
    spec: SessionSpec,
    current: ClinicSession | None,
    department: Department | None,
    doctor: Doctor | None,
) -> tuple[SessionChange, list[Slot]]:
    """The change ``changes.decide`` asks for, and the session's slots, row-locked, when
    the change touches them. Nothing is locked for a session that stays as it is: a
    repeated push reads no slot."""
    ids = {
        "department_id": None if department is None else department.id,
        "doctor_id": None if doctor is None else doctor.id,
    }
    change = decide(spec, stored=None if current is None else stored_session(current), **ids)
    if current is None or change.outcome in (Outcome.UNCHANGED, Outcome.REJECTED):
        # Neither depends on the slots (an unknown code, a withdrawn session, no change).
        return change, []
    slots = repo.lock_slots(db, session_id=current.id)
    counts = Counter(SlotState(slot.state) for slot in slots)
    return decide(spec, stored=stored_session(current, counts=counts), **ids), slots


def stored_session(
    session: ClinicSession, *, counts: Mapping[SlotState, int] | None = None
) -> StoredSession:
    """The session as ``changes.decide`` reads it, with its slots counted by state."""
    return StoredSession(
        status=session.status,
        department_id=session.department_id,
        doctor_id=session.doctor_id,
        session_date=session.session_date,
        period=session.period,
        local_start=session.local_start,
        local_end=session.local_end,
        fee=session.fee,
        capacity=session.capacity,
        slots=dict(counts or {}),
    )


def _update_session(
    db: Session,
    run: _Run,
    *,
    session: ClinicSession,
    slots: list[Slot],
    change: SessionChange,
    spec: SessionSpec,
    department: Department,
    doctor: Doctor,
) -> SessionOutcome:
    """Carry out the change ``changes.decide`` made for a stored session (its slots
    row-locked): a withdrawal, or a move, a fee and the capacity."""
    if change.outcome == Outcome.WITHDRAWN:
        withdrawal.withdraw_all(
            db,
            hospital=run.hospital,
            session=session,
            now=run.now,
            ctx=run.ctx,
            reason="withdrawn_by_hospital",
        )
        return _outcome(session, Outcome.WITHDRAWN)
    if change.moved:
        _move(session, slots=slots, spec=spec, department=department, doctor=doctor, run=run)
    if change.fee_changed:
        session.fee = spec.fee
    if change.slots_added:
        start = max((slot.number for slot in slots), default=0) + 1
        pushed = pushed_session(session, hospital_code=run.hospital.code)
        rows = _new_slots(run, session=pushed, numbers=range(start, start + change.slots_added))
        # A few slots, which the rest of the change moves and counts: ORM objects.
        added = [Slot(**row._asdict()) for row in rows]
        db.add_all(added)
        db.flush()
        ledger.record_many(
            db,
            entries=pushed_entries(pushed, slots=rows),
            at=run.now,
            recorded_at=run.now,
            ctx=run.ctx,
        )
        slots = slots + added
    if change.slots_withdrawn:
        _withdraw_free(db, run, slots=slots, count=change.slots_withdrawn)
    active = [slot for slot in slots if slot.state != SlotState.WITHDRAWN]
    resized = len(active) != session.capacity
    session.capacity = len(active)
    if change.moved or resized:
        _rewindow(session, active=active)
    return _outcome(session, change.outcome, reason=change.reason)


def _move(
    session: ClinicSession,
    *,
    slots: list[Slot],
    spec: SessionSpec,
    department: Department,
    doctor: Doctor,
    run: _Run,
) -> None:
    """Move a session nobody holds or booked to its new doctor, department or time."""
    times = session_times(
        run.policy,
        session_date=spec.session_date,
        local_start=spec.local_start,
        local_end=spec.local_end,
    )
    shift = times.starts_at - session.starts_at
    session.department_id = department.id
    session.doctor_id = doctor.id
    session.session_date = spec.session_date
    session.period = spec.period
    session.local_start = spec.local_start
    session.local_end = spec.local_end
    session.starts_at = times.starts_at
    session.ends_at = times.ends_at
    session.push_at = times.push_at
    session.release_at = times.release_at
    session.closes_at = times.closes_at
    for slot in slots:
        if slot.reserved_until is not None:
            # A reservation returns to the pool a fixed time before the session starts.
            slot.reserved_until = slot.reserved_until + shift


def _withdraw_free(db: Session, run: _Run, *, slots: list[Slot], count: int) -> None:
    """Withdraw ``count`` free slots, highest numbers first; a held or booked slot is
    never touched (``changes.decide`` counted only free ones)."""
    free = sorted(
        (slot for slot in slots if slot.state in FREE_STATES),
        key=lambda slot: slot.number,
        reverse=True,
    )
    for slot in free[:count]:
        transitions.withdraw_slot(
            db, slot=slot, now=run.now, ctx=run.ctx, reason="capacity_lowered"
        )


def pushed_session(session: ClinicSession, *, hospital_code: str) -> PushedSession:
    """What slot building needs of a stored session (``new_slots.PushedSession``)."""
    return PushedSession(
        id=session.id,
        hospital_code=hospital_code,
        his_session_id=session.his_session_id,
        session_date=session.session_date,
        period=session.period,
        starts_at=session.starts_at,
        ends_at=session.ends_at,
        release_at=session.release_at,
        closes_at=session.closes_at,
    )


def _new_slots(run: _Run, *, session: PushedSession, numbers: range) -> list[NewSlot]:
    """Slots pushed after their session's release time cool until a random time ahead."""
    late = session.release_at <= run.now
    low, high = run.late_release_minutes

    def reopen_at() -> datetime:
        return late_release_at(
            now=run.now, closes_at=session.closes_at, rng=run.rng, min_minutes=low, max_minutes=high
        )

    return new_slots(
        session,
        numbers=numbers,
        reserving=run.reserving,
        late_reopen_at=reopen_at if late else None,
    )


def _rewindow(session: ClinicSession, *, active: list[Slot]) -> None:
    """Spread the session's slots over its time again (free slots only)."""
    ordered = sorted(active, key=lambda slot: slot.number)
    windows = slot_windows(
        starts_at=session.starts_at, ends_at=session.ends_at, capacity=len(ordered)
    )
    for slot, (starts_at, ends_at) in zip(ordered, windows, strict=True):
        if slot.state not in KEEP_WINDOW:
            slot.starts_at, slot.ends_at = starts_at, ends_at


# --- small helpers ---------------------------------------------------------------------


def _outcome(
    session: ClinicSession, outcome: Outcome, *, reason: str | None = None
) -> SessionOutcome:
    return SessionOutcome(
        session_id=session.his_session_id,
        outcome=outcome,
        capacity=session.capacity,
        reason=reason,
    )


def _rejected(spec: SessionSpec, reason: str) -> SessionOutcome:
    return SessionOutcome(session_id=spec.his_session_id, outcome=Outcome.REJECTED, reason=reason)


def _summary(counts: UpsertCounts) -> UpsertSummary:
    return UpsertSummary(created=counts.created, updated=counts.updated, unchanged=counts.unchanged)
