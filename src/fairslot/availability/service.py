"""Released availability by department, date range and doctor title."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from fairslot.allocation import modes
from fairslot.allocation.batch_rules import DEFAULT_WINDOW_SECONDS
from fairslot.allocation.states import AllocationMode
from fairslot.availability import repository as repo
from fairslot.availability.schemas import FreeSlotView, SessionAvailabilityView
from fairslot.errors import InvalidInput
from fairslot.hospitals.models import DoctorTitle

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
        s.id: modes.batch_window_end(
            db,
            department=dep,
            session_date=s.session_date,
            release_at=s.release_at,
            default_seconds=batch_window_default,
        )
        for s, _, dep, _ in rows
        if modes.effective(dep) == AllocationMode.RELEASE_BATCH
    }
    return [
        SessionAvailabilityView(
            session_id=s.id,
            his_session_id=s.his_session_id,
            hospital_id=s.hospital_id,
            department_id=dep.id,
            department_name=dep.name,
            allocation_mode=modes.effective(dep),
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


def _local(at: datetime | None, tz: ZoneInfo) -> datetime | None:
    return at.astimezone(tz) if at is not None else None
