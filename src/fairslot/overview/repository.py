"""Every query of the Today overview: grouped counts over the schedules, the draws, the
review and call queues and the daily batch. Read-only."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.orm import Session

from fairslot.allocation.models import Draw
from fairslot.allocation.states import AllocationMode, DrawStatus
from fairslot.cases.models import Case
from fairslot.cases.states import CLOSED, CaseStatus
from fairslot.followup.models import CallTask
from fairslot.followup.states import CallStatus
from fairslot.hospitals.models import Department, Hospital
from fairslot.risk import report_repository
from fairslot.risk.models import RiskAlert, RiskRun
from fairslot.schedules.models import ClinicSession, Slot
from fairslot.schedules.states import FREE_STATES, SessionStatus, SlotState

# A slot someone has (or had, at the visit): what "booked" counts in the fill.
TAKEN_STATES = (SlotState.BOOKED, SlotState.ATTENDED, SlotState.NO_SHOW)

ReleaseRow = tuple[int, datetime, date, int]  # hospital, release instant, session date, sessions
FillRow = tuple[int, int, str, bool, int, int, int, int, int]


def _count(condition: ColumnElement[bool]) -> ColumnElement[Any]:
    return func.sum(case((condition, 1), else_=0))


def hospitals(db: Session) -> list[Hospital]:
    return list(db.scalars(select(Hospital).order_by(Hospital.code)))


def release_counts(db: Session, *, start: datetime, end: datetime) -> list[ReleaseRow]:
    """Active sessions per (hospital, release instant, date) released in ``[start, end)``."""
    rows = db.execute(
        select(
            ClinicSession.hospital_id,
            ClinicSession.release_at,
            ClinicSession.session_date,
            func.count(),
        )
        .where(
            ClinicSession.release_at >= start,
            ClinicSession.release_at < end,
            ClinicSession.status == SessionStatus.ACTIVE,
        )
        .group_by(ClinicSession.hospital_id, ClinicSession.release_at, ClinicSession.session_date)
        .order_by(ClinicSession.hospital_id, ClinicSession.release_at, ClinicSession.session_date)
    ).all()
    return [(int(h), at, day, int(n)) for h, at, day, n in rows]


def draws_due_or_open(
    db: Session, *, start: datetime, end: datetime
) -> list[tuple[Draw, Department]]:
    """Draws due in ``[start, end)``, and every draw still taking intents."""
    return [
        (draw, department)
        for draw, department in db.execute(
            select(Draw, Department)
            .join(Department, Department.id == Draw.department_id)
            .where(
                or_(
                    and_(Draw.due_at >= start, Draw.due_at < end),
                    Draw.status == DrawStatus.OPEN,
                )
            )
            .order_by(Department.hospital_id, Draw.due_at, Department.name, Draw.id)
        ).all()
    ]


def scarce_fill(db: Session, *, now: datetime) -> list[FillRow]:
    """Per department, over its released and not yet ended active sessions: every session
    of a draw-mode department, and the sold-out ones (no slot open or cooling) of the
    others — (hospital, department, name, draw mode, sessions, sold out, booked, held,
    total)."""

    per_session = (
        select(
            ClinicSession.hospital_id.label("hospital_id"),
            Department.id.label("department_id"),
            Department.name.label("name"),
            (Department.allocation_mode == AllocationMode.DRAW).label("draw_mode"),
            ClinicSession.id.label("session_id"),
            _count(Slot.state.in_(FREE_STATES)).label("free"),
            _count(Slot.state.in_(TAKEN_STATES)).label("booked"),
            _count(Slot.state == SlotState.HELD).label("held"),
            _count(Slot.state != SlotState.WITHDRAWN).label("total"),
        )
        .join(Slot, Slot.session_id == ClinicSession.id)
        .join(Department, Department.id == ClinicSession.department_id)
        .where(
            ClinicSession.status == SessionStatus.ACTIVE,
            ClinicSession.release_at <= now,
            ClinicSession.ends_at > now,
        )
        .group_by(
            ClinicSession.hospital_id,
            Department.id,
            Department.name,
            Department.allocation_mode,
            ClinicSession.id,
        )
        .subquery()
    )
    s = per_session.c
    sold_out = s.free == 0
    rows = db.execute(
        select(
            s.hospital_id,
            s.department_id,
            s.name,
            s.draw_mode,
            func.count(),
            _count(sold_out),
            func.sum(s.booked),
            func.sum(s.held),
            func.sum(s.total),
        )
        .where(or_(s.draw_mode, sold_out))
        .group_by(s.hospital_id, s.department_id, s.name, s.draw_mode)
        .order_by(s.hospital_id, s.draw_mode.desc(), s.name, s.department_id)
    ).all()
    return [
        (int(h), int(d), str(name), bool(mode), int(n), int(out), int(b), int(held), int(total))
        for h, d, name, mode, n, out, b, held, total in rows
    ]


def case_counts(db: Session) -> dict[CaseStatus, int]:
    """Cases not yet decided, by status."""
    rows = db.execute(
        select(Case.status, func.count())
        .where(Case.status.not_in(list(CLOSED)))
        .group_by(Case.status)
    ).all()
    return {status: int(n) for status, n in rows}


def call_counts(db: Session) -> dict[CallStatus, int]:
    """Follow-up calls not yet made, by status."""
    rows = db.execute(
        select(CallTask.status, func.count())
        .where(CallTask.status != CallStatus.DONE)
        .group_by(CallTask.status)
    ).all()
    return {status: int(n) for status, n in rows}


def risk_run(db: Session, *, day: date) -> RiskRun | None:
    return db.scalars(select(RiskRun).where(RiskRun.run_date == day)).one_or_none()


def alert_count(db: Session, *, day: date) -> int:
    return int(
        db.scalar(select(func.count()).select_from(RiskAlert).where(RiskAlert.run_date == day)) or 0
    )


def cases_opened(db: Session, *, day: date, start: datetime, end: datetime) -> int:
    """Cases the day's batch opened, counted exactly as the daily report lists them."""
    return len(report_repository.cases_opened_by(db, day=day, start=start, end=end))


def sessions_pushed_for(
    db: Session, *, releases: Collection[tuple[int, datetime]]
) -> dict[tuple[int, datetime], int]:
    """Active sessions already pushed for each (hospital, release instant)."""
    wanted = set(releases)
    if not wanted:
        return {}
    found: dict[tuple[int, datetime], int] = {}
    for hospital_id, release_at, _, n in release_counts(
        db,
        start=min(at for _, at in wanted),
        end=max(at for _, at in wanted) + timedelta(seconds=1),
    ):
        key = (hospital_id, release_at)
        if key in wanted:
            found[key] = found.get(key, 0) + n
    return found
