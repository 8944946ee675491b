"""Released availability by department, date range and doctor title."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from fairslot.allocation.states import AllocationMode, DrawKind
from fairslot.availability import repository as repo
from fairslot.availability.schemas import FreeSlotView, SessionAvailabilityView
from fairslot.errors import InvalidInput
from fairslot.hospitals.allocation_policy import (
    DEFAULT_WINDOW_SECONDS,
    effective_mode_of,
    window_seconds,
)
from fairslot.hospitals.models import Department, DoctorTitle

MAX_RANGE_DAYS = 31


def availability(
    db: Session,
    *,
    department_id: int,
    date_from: date,
    date_to: date,
    title: DoctorTitle | None,
    now: datetime,
    channel_id: int,
    batch_window_default: int = DEFAULT_WINDOW_SECONDS,
) -> list[SessionAvailabilityView]:
    """Released sessions with their free slots, times in the hospital's zone, and how
    each is allocated (the effective mode; a release batch's end while it is pending)."""
    if date_to < date_from:
        raise InvalidInput("date_to must not be before date_from.", code="invalid_date_range")
    if date_to - date_from > timedelta(days=MAX_RANGE_DAYS):
        raise InvalidInput(
            f"Ask for at most {MAX_RANGE_DAYS} days at a time.", code="invalid_date_range"
        )
    rows = repo.released_sessions(
        db,
        now=now,
        department_id=department_id,
        date_from=date_from,
        date_to=date_to,
        title=title,
    )
    by_session: dict[int, list[FreeSlotView]] = defaultdict(list)
    # One department, one hospital: every row carries the same zone.
    tz = ZoneInfo(rows[0][3] if rows else "UTC")
    for slot in repo.free_slots(
        db, session_ids=[s.id for s, _, _, _ in rows], now=now, channel_id=channel_id
    ):
        by_session[slot.session_id].append(
            FreeSlotView(
                slot_id=slot.id,
                number=slot.number,
                starts_at=slot.starts_at.astimezone(tz),
                ends_at=slot.ends_at.astimezone(tz),
            )
        )
    batch_ends = {
        s.id: batch_window_end(
            db,
            department=dep,
            session_date=s.session_date,
            release_at=s.release_at,
            default_seconds=batch_window_default,
        )
        for s, _, dep, _ in rows
        if effective_mode_of(dep) == AllocationMode.RELEASE_BATCH
    }
    return [
        SessionAvailabilityView(
            session_id=s.id,
            his_session_id=s.his_session_id,
            hospital_id=s.hospital_id,
            department_id=dep.id,
            department_name=dep.name,
            allocation_mode=effective_mode_of(dep),
            release_batch_ends_at=_local(batch_ends.get(s.id), tz),
            doctor_id=doc.id,
            doctor_name=doc.name,
            doctor_title=doc.title,
            session_date=s.session_date,
            period=s.period,
            starts_at=s.starts_at.astimezone(tz),
            ends_at=s.ends_at.astimezone(tz),
            fee=s.fee,
            capacity=s.capacity,
            free=len(by_session[s.id]),
            slots=by_session[s.id],
        )
        for s, doc, dep, _ in rows
    ]


def batch_window_end(
    db: Session,
    *,
    department: Department,
    session_date: date,
    release_at: datetime,
    default_seconds: int,
) -> datetime | None:
    """When the release batch of a department-day closes (its row's, once made), for
    channels to show; None where the day is not allocated by a release batch."""
    row = repo.draw_of_day(db, department_id=department.id, session_date=session_date)
    if row is not None:
        return row.due_at if row.kind == DrawKind.RELEASE_BATCH else None
    if effective_mode_of(department) != AllocationMode.RELEASE_BATCH:
        return None
    seconds = window_seconds(
        hospital_seconds=repo.batch_window_of(db, hospital_id=department.hospital_id),
        platform_default=default_seconds,
    )
    return release_at + timedelta(seconds=seconds)


def _local(at: datetime | None, tz: ZoneInfo) -> datetime | None:
    return at.astimezone(tz) if at is not None else None
