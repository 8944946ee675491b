"""Every allocation query. Draw and intent state changes are compare-and-set, like slots."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from fairslot.allocation.models import Draw, Intent
from fairslot.allocation.states import AllocationMode, DrawStatus, IntentStatus
from fairslot.blacklist.matching import carrying
from fairslot.channels.models import Channel
from fairslot.hospitals.models import Department, Doctor, Hospital
from fairslot.patients.models import Patient
from fairslot.schedules.models import ClinicSession, Slot
from fairslot.schedules.states import SessionStatus, SlotState


def get_draw(db: Session, draw_id: int) -> Draw | None:
    return db.get(Draw, draw_id, populate_existing=True)


def draw_for(db: Session, *, department_id: int, session_date: date) -> Draw | None:
    return db.scalars(
        select(Draw)
        .where(Draw.department_id == department_id, Draw.session_date == session_date)
        .execution_options(populate_existing=True)
    ).one_or_none()


def insert_draw_once(db: Session, draw: Draw) -> Draw:
    """Insert a department-day's new draw (or release batch), or answer the row a racing
    first need (a first intent, a first hold, the worker) inserted first: the unique
    department-day keeps one."""
    try:
        with db.begin_nested():
            db.add(draw)
            db.flush()
    except IntegrityError:
        winner = draw_for(db, department_id=draw.department_id, session_date=draw.session_date)
        assert winner is not None
        return winner
    return draw


def due_draws(db: Session, *, now: datetime, limit: int = 100) -> list[Draw]:
    return list(
        db.scalars(
            select(Draw)
            .where(Draw.status == DrawStatus.OPEN, Draw.due_at <= now)
            .order_by(Draw.due_at, Draw.id)
            .limit(limit)
        )
    )


def undrawn_department_days(
    db: Session, *, now: datetime, pushed_before: datetime, limit: int = 500
) -> list[tuple[int, date]]:
    """Draw-mode department-days with an active, still open session pushed (on the
    policy's clock) before ``pushed_before``, and no draw row yet."""
    return department_days_without_draw(
        db,
        in_mode=Department.allocation_mode == AllocationMode.DRAW,
        now=now,
        pushed_before=pushed_before,
        limit=limit,
    )


def department_days_without_draw(
    db: Session,
    *,
    in_mode: ColumnElement[bool],
    now: datetime,
    pushed_before: datetime,
    limit: int,
) -> list[tuple[int, date]]:
    """Department-days whose department meets ``in_mode`` (a condition on ``Department``)
    with an active, still open session pushed before ``pushed_before`` and no ``draws`` row
    yet: the draws and the release batches the worker still has to open."""
    has_draw = (
        select(Draw.id)
        .where(
            Draw.department_id == ClinicSession.department_id,
            Draw.session_date == ClinicSession.session_date,
        )
        .exists()
    )
    rows = db.execute(
        select(ClinicSession.department_id, ClinicSession.session_date)
        .join(Department, Department.id == ClinicSession.department_id)
        .where(
            in_mode,
            ClinicSession.status == SessionStatus.ACTIVE,
            ClinicSession.closes_at > now,
            ClinicSession.push_at <= pushed_before,
            ~has_draw,
        )
        .group_by(ClinicSession.department_id, ClinicSession.session_date)
        .order_by(ClinicSession.session_date, ClinicSession.department_id)
        .limit(limit)
    ).all()
    return [(int(dep), day) for dep, day in rows]


def department_day_sessions(
    db: Session, *, department_id: int, session_date: date
) -> list[tuple[ClinicSession, str]]:
    """The active sessions of a department-day with their doctor's title."""
    rows = db.execute(
        select(ClinicSession, Doctor.title)
        .join(Doctor, Doctor.id == ClinicSession.doctor_id)
        .where(
            ClinicSession.department_id == department_id,
            ClinicSession.session_date == session_date,
            ClinicSession.status == SessionStatus.ACTIVE,
        )
        .order_by(ClinicSession.id)
    ).all()
    return [(session, str(title.value)) for session, title in rows]


def free_slots_for_draw(
    db: Session, *, session_ids: Sequence[int], now: datetime
) -> list[tuple[Slot, ClinicSession]]:
    """Slots the draw hands out: OPEN ones in a session not yet closed. A cooling slot
    (late supply) keeps its own random delay and then goes the way of returned slots."""
    if not session_ids:
        return []
    rows = db.execute(
        select(Slot, ClinicSession)
        .join(ClinicSession, ClinicSession.id == Slot.session_id)
        .where(
            Slot.session_id.in_(list(session_ids)),
            Slot.state == SlotState.OPEN,
            ClinicSession.closes_at > now,
        )
        .order_by(Slot.number, Slot.session_id)
    ).all()
    return [(slot, session) for slot, session in rows]


def department(db: Session, department_id: int) -> Department | None:
    return db.get(Department, department_id)


def hospital(db: Session, hospital_id: int) -> Hospital | None:
    return db.get(Hospital, hospital_id)


def get_session(db: Session, session_id: int) -> ClinicSession | None:
    return db.get(ClinicSession, session_id)


def mark_drawn(db: Session, *, draw_id: int, version: int, seed: str, now: datetime) -> bool:
    """Claim the draw: only one runner moves it from OPEN; the gate opens with it."""
    result = db.execute(
        update(Draw)
        .where(Draw.id == draw_id, Draw.status == DrawStatus.OPEN, Draw.version == version)
        .values(status=DrawStatus.DRAWN, seed=seed, drawn_at=now, version=Draw.version + 1)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount) == 1  # type: ignore[attr-defined]


def record_result(db: Session, *, draw_id: int, inputs_digest: str, result: dict[str, Any]) -> None:
    db.execute(
        update(Draw)
        .where(Draw.id == draw_id, Draw.status == DrawStatus.DRAWN)
        .values(inputs_digest=inputs_digest, result=result)
        .execution_options(synchronize_session=False)
    )


def get_intent(db: Session, intent_id: str) -> Intent | None:
    return db.get(Intent, intent_id, populate_existing=True)


def intent_of(db: Session, *, draw_id: int, patient_id: int) -> Intent | None:
    return db.scalars(
        select(Intent)
        .where(Intent.draw_id == draw_id, Intent.patient_id == patient_id)
        .execution_options(populate_existing=True)
    ).one_or_none()


def insert_intent_once(db: Session, intent: Intent) -> tuple[Intent, bool]:
    """Insert a patient's new intent (or batch entry) in a draw, or answer the one a
    parallel request for the same patient inserted first (the unique draw-patient pair
    keeps one). The flag: whether this call inserted it."""
    try:
        with db.begin_nested():
            db.add(intent)
            db.flush()
    except IntegrityError:
        same = intent_of(db, draw_id=intent.draw_id, patient_id=intent.patient_id)
        if same is None:
            raise
        return same, False
    return intent, True


def intents_of(db: Session, *, draw_id: int, status: IntentStatus | None = None) -> list[Intent]:
    stmt = select(Intent).where(Intent.draw_id == draw_id)
    if status is not None:
        stmt = stmt.where(Intent.status == status)
    return list(db.scalars(stmt.order_by(Intent.id)))


def count_intents(db: Session, *, draw_id: int, status: IntentStatus) -> int:
    return int(
        db.scalar(
            select(func.count())
            .select_from(Intent)
            .where(Intent.draw_id == draw_id, Intent.status == status)
        )
        or 0
    )


def patients_by_id(db: Session, patient_ids: Collection[int]) -> dict[int, Patient]:
    if not patient_ids:
        return {}
    rows = db.scalars(select(Patient).where(Patient.id.in_(sorted(set(patient_ids)))))
    return {p.id: p for p in rows}


def pending_intents_with_identifiers(
    db: Session,
    *,
    patient_keys: Collection[str],
    phone_hashes: Collection[str],
    account_ids: Collection[int],
    payment_hashes: Collection[str],
    device_keys: Collection[str],
    network_keys: Collection[str],
) -> list[tuple[Intent, Patient]]:
    """Registered intents of draws not yet run carrying one of the identifiers, with their
    patient, looked up by key (``blacklist/matching.py::carrying``)."""
    wanted = carrying(
        Intent,
        patient_keys=patient_keys,
        phone_hashes=phone_hashes,
        account_ids=account_ids,
        payment_hashes=payment_hashes,
        device_keys=device_keys,
        network_keys=network_keys,
    )
    if not wanted:
        return []
    rows = db.execute(
        select(Intent, Patient)
        .join(Patient, Patient.id == Intent.patient_id)
        .join(Draw, Draw.id == Intent.draw_id)
        .where(
            Intent.status == IntentStatus.REGISTERED,
            Draw.status == DrawStatus.OPEN,
            or_(*wanted),
        )
        .order_by(Intent.created_at, Intent.id)
    )
    return [(intent, patient) for intent, patient in rows]


def move_intent(
    db: Session, *, intent_id: str, expected: IntentStatus, target: IntentStatus, **values: Any
) -> bool:
    result = db.execute(
        update(Intent)
        .where(Intent.id == intent_id, Intent.status == expected)
        .values(status=target, **values)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount) == 1  # type: ignore[attr-defined]


# -- the staff console's lists (read-only) ------------------------------------------------

DrawRow = tuple[Draw, Department, Hospital]


def draw_listing(
    db: Session,
    *,
    hospital_id: int | None,
    department_id: int | None,
    session_date: date | None,
    status: DrawStatus | None,
    limit: int,
    offset: int,
) -> tuple[list[DrawRow], int]:
    """Draws matching the filters, latest session date first, and how many match."""
    stmt = (
        select(Draw, Department, Hospital)
        .join(Department, Department.id == Draw.department_id)
        .join(Hospital, Hospital.id == Department.hospital_id)
    )
    if hospital_id is not None:
        stmt = stmt.where(Department.hospital_id == hospital_id)
    if department_id is not None:
        stmt = stmt.where(Draw.department_id == department_id)
    if session_date is not None:
        stmt = stmt.where(Draw.session_date == session_date)
    if status is not None:
        stmt = stmt.where(Draw.status == status)
    total = int(db.scalar(select(func.count()).select_from(stmt.subquery())) or 0)
    rows = db.execute(
        stmt.order_by(Draw.session_date.desc(), Hospital.code, Department.name, Draw.id)
        .limit(limit)
        .offset(offset)
        .execution_options(populate_existing=True)
    ).all()
    return [(draw, dep, hospital) for draw, dep, hospital in rows], total


def registered_counts(db: Session, *, draw_ids: Collection[int]) -> dict[int, int]:
    """Intents still registered (not withdrawn) per draw: the entries a draw not yet run
    would take now."""
    if not draw_ids:
        return {}
    rows = db.execute(
        select(Intent.draw_id, func.count())
        .where(Intent.draw_id.in_(sorted(set(draw_ids))), Intent.status == IntentStatus.REGISTERED)
        .group_by(Intent.draw_id)
    ).all()
    return {int(draw_id): int(n) for draw_id, n in rows}


def draw_departments(db: Session) -> list[tuple[Department, Hospital]]:
    """Departments allocated by draw, or that have a draw (a department may have changed
    its mode since), for the console's filter."""
    has_draw = select(Draw.id).where(Draw.department_id == Department.id).exists()
    rows = db.execute(
        select(Department, Hospital)
        .join(Hospital, Hospital.id == Department.hospital_id)
        .where(or_(Department.allocation_mode == AllocationMode.DRAW, has_draw))
        .order_by(Hospital.code, Department.name, Department.id)
    ).all()
    return [(dep, hospital) for dep, hospital in rows]


def draw_place(db: Session, draw_id: int) -> DrawRow | None:
    row = db.execute(
        select(Draw, Department, Hospital)
        .join(Department, Department.id == Draw.department_id)
        .join(Hospital, Hospital.id == Department.hospital_id)
        .where(Draw.id == draw_id)
        .execution_options(populate_existing=True)
    ).one_or_none()
    return None if row is None else (row[0], row[1], row[2])


def intents_with_people(
    db: Session, *, draw_id: int
) -> list[tuple[Intent, Patient, Channel | None]]:
    """Every intent of the draw with its patient and channel."""
    rows = db.execute(
        select(Intent, Patient, Channel)
        .join(Patient, Patient.id == Intent.patient_id)
        .outerjoin(Channel, Channel.id == Intent.channel_id)
        .where(Intent.draw_id == draw_id)
        .order_by(Intent.id)
        .execution_options(populate_existing=True)
    ).all()
    return [(intent, patient, channel) for intent, patient, channel in rows]


def day_sessions_with_doctors(
    db: Session, *, department_id: int, session_date: date
) -> list[tuple[ClinicSession, Doctor]]:
    """Every session of the department-day (withdrawn ones too: a draw may name them)."""
    rows = db.execute(
        select(ClinicSession, Doctor)
        .join(Doctor, Doctor.id == ClinicSession.doctor_id)
        .where(
            ClinicSession.department_id == department_id,
            ClinicSession.session_date == session_date,
        )
        .order_by(ClinicSession.local_start, ClinicSession.id)
    ).all()
    return [(session, doctor) for session, doctor in rows]
