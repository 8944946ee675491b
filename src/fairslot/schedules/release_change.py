"""A hospital changes its release policy: the policy is the hospital's
(``hospitals/service.py::set_release_policy``), the times of its sessions still to come
follow here, in the same transaction. Services only flush; the edge commits."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlalchemy.orm import Session

from fairslot.hospitals import service as hospitals
from fairslot.hospitals.models import Hospital
from fairslot.schedules import repository as repo
from fairslot.schedules.release import next_release_instant, session_times


def update_release_policy(
    db: Session,
    *,
    hospital: Hospital,
    now: datetime,
    days_ahead: int | None = None,
    push_time: time | None = None,
    release_time: time | None = None,
    booking_close_minutes: int | None = None,
) -> int:
    """Change the release policy and recompute the times of every session still to come.

    A session already released keeps its push and release times (what people have seen
    cannot be unseen); only its closing time follows the new policy. A session the new
    policy would have released in the past is released at the next regular release time,
    never at the moment of the change (a radar would be first). Returns the number of
    sessions recomputed.
    """
    hospitals.set_release_policy(
        hospital,
        days_ahead=days_ahead,
        push_time=push_time,
        release_time=release_time,
        booking_close_minutes=booking_close_minutes,
    )
    policy = hospitals.policy_of(hospital)
    sessions = repo.future_sessions(db, hospital_id=hospital.id, now=now)
    for session in sessions:
        times = session_times(
            policy,
            session_date=session.session_date,
            local_start=session.local_start,
            local_end=session.local_end,
        )
        if session.release_at > now:
            release_at = max(times.release_at, next_release_instant(policy, now=now))
            session.push_at = min(times.push_at, release_at)
            session.release_at = release_at
            session.closes_at = max(times.closes_at, release_at)
        else:
            closes_at = session.starts_at - timedelta(minutes=policy.booking_close_minutes)
            session.closes_at = max(closes_at, session.release_at)
    db.flush()
    return len(sessions)
