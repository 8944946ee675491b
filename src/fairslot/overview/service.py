"""The Today overview: per hospital, the day's releases and draws and the fill of its
scarce supply; for the platform, the review and call queues and yesterday's batch.

Read-only: nothing here writes, so the page can be opened by every role at any time.
Each hospital's "today" is its own local date.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from fairslot.allocation import repository as allocation_repo
from fairslot.allocation.models import Draw
from fairslot.allocation.states import DrawStatus
from fairslot.allocation.verification import check
from fairslot.cases.states import CaseStatus
from fairslot.followup.states import CallStatus
from fairslot.hospitals.models import Hospital
from fairslot.overview import repository as repo
from fairslot.overview.schemas import (
    BatchDay,
    DrawLine,
    FillLine,
    HospitalDay,
    NextRelease,
    Queues,
    ReleaseLine,
    Today,
)
from fairslot.risk.report import day_bounds
from fairslot.schedules.release import local_to_utc


def today(db: Session, *, now: datetime, zone: str) -> Today:
    """The overview at ``now``; ``zone`` is the platform's (the batch counts its days in it)."""
    found = repo.hospitals(db)
    days = {h.id: _local_day(h, now) for h in found}
    bounds = {h.id: day_bounds(days[h.id], h.timezone) for h in found}
    nexts = {h.id: next_release(h, now=now) for h in found}
    released = _released(db, bounds, now=now)
    pushed = repo.sessions_pushed_for(db, releases=[(h_id, at) for h_id, (at, _) in nexts.items()])
    draws = _draws(db, bounds, now=now)
    fill = _fill(db, now=now)
    hospitals = [
        HospitalDay(
            hospital_id=h.id,
            code=h.code,
            name=h.name,
            zone=h.timezone,
            today=days[h.id],
            released=released.get(h.id, []),
            next_release=NextRelease(
                release_at=nexts[h.id][0],
                session_date=nexts[h.id][1],
                days_ahead=h.days_ahead,
                sessions_pushed=pushed.get((h.id, nexts[h.id][0]), 0),
            ),
            draws=draws.get(h.id, []),
            fill=fill.get(h.id, []),
        )
        for h in found
    ]
    return Today(
        now=now,
        zone=zone,
        hospitals=hospitals,
        queues=_queues(db),
        batch=batch_of(
            db, day=now.astimezone(ZoneInfo(zone)).date() - timedelta(days=1), zone=zone
        ),
    )


def next_release(hospital: Hospital, *, now: datetime) -> tuple[datetime, date]:
    """The hospital's next regular release after ``now`` and the date it opens (today's
    release if it is still ahead, else tomorrow's)."""
    day = _local_day(hospital, now)
    for release_day in (day, day + timedelta(days=1)):
        at = local_to_utc(release_day, hospital.release_time, hospital.timezone)
        if at > now:
            return at, release_day + timedelta(days=hospital.days_ahead)
    # Only on a day the clocks jump over the release time: the day after tomorrow.
    release_day = day + timedelta(days=2)
    at = local_to_utc(release_day, hospital.release_time, hospital.timezone)
    return at, release_day + timedelta(days=hospital.days_ahead)


def batch_of(db: Session, *, day: date, zone: str) -> BatchDay:
    run = repo.risk_run(db, day=day)
    if run is None:
        return BatchDay(
            day=day,
            ran=False,
            finished=False,
            finished_at=None,
            alerts=0,
            rings_flagged=0,
            cases_opened=0,
            bookings_seen=0,
        )
    start, end = day_bounds(day, zone)
    return BatchDay(
        day=day,
        ran=True,
        finished=run.finished_at is not None,
        finished_at=run.finished_at,
        alerts=repo.alert_count(db, day=day),
        rings_flagged=run.rings_flagged,
        cases_opened=repo.cases_opened(db, day=day, start=start, end=end),
        bookings_seen=run.bookings_seen,
    )


def _local_day(hospital: Hospital, now: datetime) -> date:
    return now.astimezone(ZoneInfo(hospital.timezone)).date()


def _released(
    db: Session, bounds: dict[int, tuple[datetime, datetime]], *, now: datetime
) -> dict[int, list[ReleaseLine]]:
    """Releases of each hospital's local day up to now (a later one is the next release)."""
    if not bounds:
        return {}
    start = min(s for s, _ in bounds.values())
    end = min(max(e for _, e in bounds.values()), now + timedelta(microseconds=1))
    lines: dict[int, list[ReleaseLine]] = defaultdict(list)
    for hospital_id, at, day, n in repo.release_counts(db, start=start, end=end):
        own_start, own_end = bounds.get(hospital_id, (end, end))
        if own_start <= at < own_end:
            lines[hospital_id].append(ReleaseLine(release_at=at, session_date=day, sessions=n))
    return lines


def _draws(
    db: Session, bounds: dict[int, tuple[datetime, datetime]], *, now: datetime
) -> dict[int, list[DrawLine]]:
    if not bounds:
        return {}
    start = min(s for s, _ in bounds.values())
    end = max(e for _, e in bounds.values())
    found = []
    for draw, department in repo.draws_due_or_open(db, start=start, end=end):
        own_start, own_end = bounds.get(department.hospital_id, (end, end))
        # A run draw belongs to the day it was due; one still open shows until it runs.
        if draw.status == DrawStatus.OPEN or own_start <= draw.due_at < own_end:
            found.append((draw, department))
    waiting = allocation_repo.registered_counts(
        db, draw_ids=[d.id for d, _ in found if d.status == DrawStatus.OPEN]
    )
    lines: dict[int, list[DrawLine]] = defaultdict(list)
    for draw, department in found:
        lines[department.hospital_id].append(
            _draw_line(draw, department_name=department.name, now=now, waiting=waiting)
        )
    return lines


def _draw_line(
    draw: Draw, *, department_name: str, now: datetime, waiting: dict[int, int]
) -> DrawLine:
    if draw.status == DrawStatus.DRAWN and draw.seed is not None:
        verification = check(draw)
        status, intents, verified = "run", verification.intents, verification.verified
    else:
        # Past its due time and not run: the worker is behind (or down).
        status = "overdue" if draw.due_at <= now else "pending"
        intents, verified = waiting.get(draw.id, 0), None
    return DrawLine(
        draw_id=draw.id,
        department_id=draw.department_id,
        department_name=department_name,
        session_date=draw.session_date,
        status=status,
        due_at=draw.due_at,
        drawn_at=draw.drawn_at,
        intents=intents,
        verified=verified,
    )


def _fill(db: Session, *, now: datetime) -> dict[int, list[FillLine]]:
    lines: dict[int, list[FillLine]] = defaultdict(list)
    for hospital_id, dep_id, name, draw_mode, n, out, booked, held, total in repo.scarce_fill(
        db, now=now
    ):
        lines[hospital_id].append(
            FillLine(
                department_id=dep_id,
                department_name=name,
                draw_mode=draw_mode,
                sessions=n,
                sold_out=out,
                booked=booked,
                held=held,
                total=total,
            )
        )
    return lines


def _queues(db: Session) -> Queues:
    cases = repo.case_counts(db)
    calls = repo.call_counts(db)
    return Queues(
        cases_open=cases.get(CaseStatus.OPEN, 0),
        cases_in_review=cases.get(CaseStatus.IN_REVIEW, 0),
        cases_awaiting_call=cases.get(CaseStatus.AWAITING_CALL, 0),
        calls_pending=calls.get(CallStatus.PENDING, 0),
        calls_taken=calls.get(CallStatus.TAKEN, 0),
    )
