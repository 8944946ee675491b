"""Sessions not yet released: who sits when, and when the session opens (in the
hospital's zone). The patient pages show them in the date grid ("opens 00:30 on 12 Dec");
their slots stay hidden until release like everywhere else."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from fairslot.availability import repository as repo
from fairslot.hospitals.kinds import DoctorTitle
from fairslot.schedules.states import Period


@dataclass(frozen=True)
class UpcomingSession:
    session_id: int
    doctor_id: int
    doctor_name: str
    doctor_title: DoctorTitle
    session_date: date
    period: Period
    capacity: int
    opens_at: datetime  # the release instant, in the hospital's zone


def upcoming(
    db: Session, *, department_id: int, date_from: date, date_to: date, now: datetime
) -> list[UpcomingSession]:
    """The department's sessions from ``date_from`` to ``date_to`` not released yet."""
    return [
        UpcomingSession(
            session_id=s.id,
            doctor_id=doc.id,
            doctor_name=doc.name,
            doctor_title=doc.title,
            session_date=s.session_date,
            period=s.period,
            capacity=s.capacity,
            opens_at=s.release_at.astimezone(ZoneInfo(tz)),
        )
        for s, doc, tz in repo.unreleased_sessions(
            db, now=now, department_id=department_id, date_from=date_from, date_to=date_to
        )
    ]
