"""Queries of release batches and of the allocation mode the platform decided.

A batch is a ``draws`` row of kind ``release_batch`` and its entries are ``intents``: the
draw's own compare-and-set changes (``repository.py``) apply to them unchanged.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, date, datetime

from sqlalchemy import ColumnElement, and_, case, func, select
from sqlalchemy.orm import Session

from fairslot.allocation import repository as repo
from fairslot.allocation.models import AllocationDecision, Draw, Intent
from fairslot.allocation.states import AllocationMode, DrawKind, DrawStatus
from fairslot.bookings.models import Booking
from fairslot.hospitals.models import Department, Hospital
from fairslot.schedules.models import ClinicSession, Slot


def effective_mode_sql() -> ColumnElement[str]:
    """``scarcity.effective_mode`` in SQL, on ``Department``: the hospital's override or
    the schedule's mode, raised to a release batch where first-come meets scarcity."""
    configured = func.coalesce(Department.mode_override, Department.allocation_mode)
    return case(
        (
            and_(configured == AllocationMode.FIRST_COME.value, Department.scarce.is_(True)),
            AllocationMode.RELEASE_BATCH.value,
        ),
        else_=configured,
    )


def unbatched_department_days(
    db: Session, *, now: datetime, pushed_before: datetime, limit: int = 500
) -> list[tuple[int, date]]:
    """Release-batch department-days with an active, still open session pushed before
    ``pushed_before`` and no draw row yet (the commitment is published at the push)."""
    return repo.department_days_without_draw(
        db,
        in_mode=effective_mode_sql() == AllocationMode.RELEASE_BATCH.value,
        now=now,
        pushed_before=pushed_before,
        limit=limit,
    )


def department_with_hospital(db: Session, department_id: int) -> tuple[Department, Hospital] | None:
    row = db.execute(
        select(Department, Hospital)
        .join(Hospital, Hospital.id == Department.hospital_id)
        .where(Department.id == department_id)
        .execution_options(populate_existing=True)
    ).one_or_none()
    return None if row is None else (row[0], row[1])


def hospital_of(db: Session, hospital_id: int) -> Hospital:
    hospital = db.get(Hospital, hospital_id)
    assert hospital is not None  # the caller is this hospital, authenticated
    return hospital


def departments_of(db: Session, *, hospital_id: int) -> list[Department]:
    return list(
        db.scalars(
            select(Department).where(Department.hospital_id == hospital_id).order_by(Department.id)
        )
    )


def hold_target(
    db: Session, *, session_id: int | None = None, slot_id: str | None = None
) -> tuple[ClinicSession, Department, Draw | None] | None:
    """A session (given, or the one of a slot) with its department and the draw or batch
    row of its department-day, in one statement (it is on every hold's path)."""
    stmt = (
        select(ClinicSession, Department, Draw)
        .join(Department, Department.id == ClinicSession.department_id)
        .outerjoin(
            Draw,
            and_(
                Draw.department_id == ClinicSession.department_id,
                Draw.session_date == ClinicSession.session_date,
            ),
        )
    )
    if slot_id is not None:
        stmt = stmt.join(Slot, Slot.session_id == ClinicSession.id).where(Slot.id == slot_id)
    else:
        stmt = stmt.where(ClinicSession.id == session_id)
    row = db.execute(stmt.execution_options(populate_existing=True)).one_or_none()
    return None if row is None else (row[0], row[1], row[2])


def batch_entry(db: Session, entry_id: str) -> tuple[Intent, Draw] | None:
    row = db.execute(
        select(Intent, Draw)
        .join(Draw, Draw.id == Intent.draw_id)
        .where(Intent.id == entry_id, Draw.kind == DrawKind.RELEASE_BATCH)
        .execution_options(populate_existing=True)
    ).one_or_none()
    return None if row is None else (row[0], row[1])


def booking_expiry(db: Session, booking_id: str) -> tuple[str, datetime] | None:
    row = db.execute(
        select(Booking.status, Booking.expires_at).where(Booking.id == booking_id)
    ).one_or_none()
    return None if row is None else (str(row[0].value), row[1])


# -- the allocation mode --------------------------------------------------------------


def add_decision(db: Session, decision: AllocationDecision) -> None:
    db.add(decision)
    db.flush()


def last_verdicts(db: Session, *, department_ids: Collection[int]) -> dict[int, AllocationDecision]:
    """The latest scarcity verdict of each department."""
    if not department_ids:
        return {}
    latest = (
        select(AllocationDecision.department_id, func.max(AllocationDecision.id).label("id"))
        .where(
            AllocationDecision.department_id.in_(sorted(set(department_ids))),
            AllocationDecision.kind == "scarcity_verdict",
        )
        .group_by(AllocationDecision.department_id)
        .subquery()
    )
    rows = db.scalars(select(AllocationDecision).join(latest, latest.c.id == AllocationDecision.id))
    return {d.department_id: d for d in rows}


def decided_departments(
    db: Session, *, hospital_id: int | None, limit: int = 200
) -> list[tuple[Department, Hospital]]:
    """Departments the platform judged scarce or the hospital overrode."""
    stmt = (
        select(Department, Hospital)
        .join(Hospital, Hospital.id == Department.hospital_id)
        .where((Department.scarce.is_(True)) | (Department.mode_override.is_not(None)))
    )
    if hospital_id is not None:
        stmt = stmt.where(Department.hospital_id == hospital_id)
    rows = db.execute(stmt.order_by(Hospital.code, Department.name).limit(limit)).all()
    return [(d, h) for d, h in rows]


def decisions_of(db: Session, *, department_id: int, limit: int = 20) -> list[AllocationDecision]:
    return list(
        db.scalars(
            select(AllocationDecision)
            .where(AllocationDecision.department_id == department_id)
            .order_by(AllocationDecision.id.desc())
            .limit(limit)
        )
    )


def departments_due_for_verdict(
    db: Session, *, verdict_before: datetime, limit: int
) -> list[Department]:
    """Departments whose last scarcity verdict is older than ``verdict_before`` (or
    that have none)."""
    recent = (
        select(AllocationDecision.id)
        .where(
            AllocationDecision.department_id == Department.id,
            AllocationDecision.kind == "scarcity_verdict",
            AllocationDecision.decided_at >= verdict_before,
        )
        .exists()
    )
    return list(db.scalars(select(Department).where(~recent).order_by(Department.id).limit(limit)))


# -- the history the scarcity rule reads -------------------------------------------------


def first_come_sellouts(
    db: Session, *, department_id: int, since: date, released_before: datetime
) -> list[tuple[date, int, float | None]]:
    """Per department-day released before ``released_before`` (not allocated by a draw
    row): its slots, and the seconds from release until its quickest session had every
    slot claimed at least once (None: no session sold out)."""
    first_claim = (
        select(
            Booking.slot_id.label("slot_id"),
            func.min(Booking.held_at).label("at"),
        )
        .where(Booking.department_id == department_id, Booking.session_date >= since)
        .group_by(Booking.slot_id)
        .subquery()
    )
    per_session = db.execute(
        select(
            ClinicSession.session_date,
            ClinicSession.release_at,
            func.count(Slot.id),
            func.count(first_claim.c.slot_id),
            func.max(first_claim.c.at),
        )
        .join(Slot, Slot.session_id == ClinicSession.id)
        .outerjoin(first_claim, first_claim.c.slot_id == Slot.id)
        .where(
            ClinicSession.department_id == department_id,
            ClinicSession.session_date >= since,
            ClinicSession.release_at <= released_before,
        )
        .group_by(ClinicSession.id, ClinicSession.session_date, ClinicSession.release_at)
    ).all()
    days: dict[date, tuple[int, float | None]] = {}
    for day, release_at, slots, claimed, last in per_session:
        seconds = None
        if slots and claimed == slots and last is not None:
            seconds = max(0.0, (_aware(last) - _aware(release_at)).total_seconds())
        total, best = days.get(day, (0, None))
        if best is None or (seconds is not None and seconds < best):
            best = seconds
        days[day] = (total + int(slots), best)
    return [(day, slots, best) for day, (slots, best) in days.items()]


def drawn_days(db: Session, *, department_id: int, since: date) -> list[Draw]:
    return list(
        db.scalars(
            select(Draw).where(
                Draw.department_id == department_id,
                Draw.session_date >= since,
                Draw.status == DrawStatus.DRAWN,
            )
        )
    )


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)
