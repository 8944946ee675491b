"""The hospital's own view of its schedule: every session, released or not."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from fairslot.hospitals.models import Department, Doctor, Hospital
from fairslot.schedules import repository as repo
from fairslot.schedules.errors import SessionNotFound
from fairslot.schedules.models import ClinicSession
from fairslot.schedules.release import is_released
from fairslot.schedules.schemas import SessionView
from fairslot.schedules.states import SlotState


def list_sessions(
    db: Session, *, hospital: Hospital, day: date, now: datetime
) -> list[SessionView]:
    """The hospital's sessions on a local date, released or not, with slot counts."""
    return _views(db, hospital, repo.sessions_on(db, hospital_id=hospital.id, day=day), now=now)


def list_sessions_between(
    db: Session,
    *,
    hospital: Hospital,
    first: date,
    last: date,
    now: datetime,
    department: str | None = None,
    limit: int = 500,
) -> list[SessionView]:
    """The hospital's sessions on local dates ``first``..``last``, released or not, with
    slot counts; at most ``limit``, in time order."""
    rows = repo.sessions_between(
        db,
        hospital_id=hospital.id,
        first=first,
        last=last,
        department_code=department,
        limit=limit,
    )
    return _views(db, hospital, rows, now=now)


def session_view(
    db: Session, *, hospital: Hospital, his_session_id: str, now: datetime
) -> SessionView:
    """One session of the hospital, released or not, with its slot counts."""
    row = repo.session_with_names(db, hospital_id=hospital.id, his_session_id=his_session_id)
    if row is None:
        raise SessionNotFound(f"Hospital {hospital.code} has no session {his_session_id!r}.")
    return _views(db, hospital, [row], now=now)[0]


def _views(
    db: Session,
    hospital: Hospital,
    rows: list[tuple[ClinicSession, Department, Doctor]],
    *,
    now: datetime,
) -> list[SessionView]:
    counts = repo.slot_state_counts(db, session_ids=[session.id for session, _, _ in rows])
    zone = ZoneInfo(hospital.timezone)
    return [
        SessionView(
            session_id=session.his_session_id,
            platform_session_id=session.id,
            department=department.code,
            department_name=department.name,
            doctor=doctor.code,
            doctor_name=doctor.name,
            date=session.session_date,
            period=session.period,
            start=session.local_start,
            end=session.local_end,
            fee=session.fee,
            capacity=session.capacity,
            status=session.status,
            push_at=session.push_at.astimezone(zone),
            release_at=session.release_at.astimezone(zone),
            closes_at=session.closes_at.astimezone(zone),
            released=is_released(session.release_at, now),
            slots={state.value: counts.get(session.id, {}).get(state, 0) for state in SlotState},
        )
        for session, department, doctor in rows
    ]


def local_today(hospital: Hospital, now: datetime) -> date:
    """The hospital's calendar date at ``now``."""
    return now.astimezone(ZoneInfo(hospital.timezone)).date()
