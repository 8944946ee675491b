"""The hospital's own view of its schedule: every session, released or not."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from fairslot.hospitals.models import Hospital
from fairslot.schedules import repository as repo
from fairslot.schedules.release import is_released
from fairslot.schedules.schemas import SessionView
from fairslot.schedules.states import SlotState


def list_sessions(
    db: Session, *, hospital: Hospital, day: date, now: datetime
) -> list[SessionView]:
    """The hospital's sessions on a local date, released or not, with slot counts."""
    rows = repo.sessions_on(db, hospital_id=hospital.id, day=day)
    counts = repo.slot_state_counts(db, session_ids=[session.id for session, _, _ in rows])
    zone = ZoneInfo(hospital.timezone)
    return [
        SessionView(
            session_id=session.his_session_id,
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
