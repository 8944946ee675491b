"""Schedulers' staff API: a hospital's sessions, importing a schedule on its behalf (with a
preview first), withdrawing a session (with a preview), its release policy."""

from __future__ import annotations

import hashlib
from datetime import date, timedelta
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from fairslot.api.deps import DbDep, PlatformDep, done
from fairslot.api.hospital_routes import RawBody
from fairslot.api.staff_deps import SchedulerDep
from fairslot.bootstrap import Platform
from fairslot.hospitals import service as hospitals
from fairslot.hospitals.models import Hospital
from fairslot.hospitals.schemas import CODE_PATTERN, HospitalView
from fairslot.schedules import formats, preview, staff_actions, views
from fairslot.schedules.formats import ScheduleDocument
from fairslot.schedules.schemas import (
    ImportPreview,
    ImportReport,
    SessionView,
    WithdrawalPreview,
    WithdrawalReport,
)
from fairslot.timeofday import LocalTime

router = APIRouter(prefix="/staff/v1/hospitals", tags=["staff: scheduling"])

Code = Annotated[str, Path(min_length=1, max_length=64, pattern=CODE_PATTERN)]
MAX_RANGE_DAYS = 31


class StaffWithdrawIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=200)


class PolicyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=500)
    days_ahead: int | None = Field(None, ge=0, le=30)
    push_time: LocalTime | None = None
    release_time: LocalTime | None = None
    booking_close_minutes: int | None = Field(None, ge=0, le=24 * 60)


class PolicyOut(BaseModel):
    hospital: HospitalView
    sessions_recomputed: int


@router.get("/{code}/sessions", response_model=list[SessionView])
def list_sessions(
    code: Code,
    actor: SchedulerDep,
    request: Request,
    db: DbDep,
    platform: PlatformDep,
    day: Annotated[
        date | None, Query(alias="date", description="Local date; today if not given.")
    ] = None,
    until: Annotated[
        date | None,
        Query(description="Last local date of a range starting at `date` (at most 31 days)."),
    ] = None,
    department: Annotated[str | None, Query(max_length=64, pattern=CODE_PATTERN)] = None,
) -> list[SessionView]:
    """A hospital's sessions on a local date (or dates ``date``..``until``), released or
    not, with slot counts by state; at most 500, in time order."""
    hospital = hospitals.get_hospital(db, code=code)
    now = platform.clock.now()
    first = day or views.local_today(hospital, now)
    last = max(first, min(until or first, first + timedelta(days=MAX_RANGE_DAYS - 1)))
    sessions = views.list_sessions_between(
        db, hospital=hospital, first=first, last=last, department=department, now=now
    )
    return done(request, db, sessions)


@router.get("/{code}/sessions/{his_session_id}/withdrawal", response_model=WithdrawalPreview)
def preview_withdrawal(
    code: Code,
    his_session_id: Code,
    actor: SchedulerDep,
    request: Request,
    db: DbDep,
    platform: PlatformDep,
) -> WithdrawalPreview:
    """What withdrawing the session would do now: its slots, and the holds and bookings
    (each patient is told) — nothing is changed."""
    hospital = hospitals.get_hospital(db, code=code)
    found = preview.preview_withdrawal(
        db, hospital=hospital, his_session_id=his_session_id, now=platform.clock.now()
    )
    return done(request, db, found)


def read_schedule(
    request: Request, body: bytes, *, hospital: Hospital, platform: Platform
) -> ScheduleDocument:
    """The pushed document, JSON or CSV by its Content-Type (``text/csv; charset=...``),
    read by the same readers as the hospital API."""
    content_type = request.headers.get("content-type", "")
    return formats.parse_document(
        body,
        kind=formats.kind_of(content_type=content_type, raw=body),
        today=views.local_today(hospital, platform.clock.now()),
        charset=formats.charset_of(content_type),
    )


@router.post("/{code}/schedule/preview", response_model=ImportPreview)
def preview_schedule(
    code: Code,
    body: RawBody,
    actor: SchedulerDep,
    request: Request,
    db: DbDep,
    platform: PlatformDep,
) -> ImportPreview:
    """What importing this schedule (JSON, or CSV with ``Content-Type: text/csv``) for
    the hospital would change — nothing is written. The same checks as the import: a
    document it refuses whole is 422 ``schedule_invalid`` naming every row at fault."""
    hospital = hospitals.get_hospital(db, code=code)
    doc = read_schedule(request, body, hospital=hospital, platform=platform)
    return done(request, db, preview.preview_import(db, doc=doc, as_hospital=hospital))


@router.post("/{code}/schedule", response_model=ImportReport)
def import_schedule(
    code: Code,
    body: RawBody,
    actor: SchedulerDep,
    request: Request,
    db: DbDep,
    platform: PlatformDep,
) -> ImportReport:
    """Import a schedule for the hospital as its own push would (docs/schedule-format.md);
    audited (``schedule.import``) with the counts."""
    hospital = hospitals.get_hospital(db, code=code)
    doc = read_schedule(request, body, hospital=hospital, platform=platform)
    settings = platform.settings
    report = staff_actions.import_schedule(
        db,
        hospital=hospital,
        doc=doc,
        actor=actor,
        now=platform.clock.now(),
        rng=platform.rng,
        late_release_minutes=(settings.late_release_min_minutes, settings.late_release_max_minutes),
        source={"sha256": hashlib.sha256(body).hexdigest(), "via": "api"},
    )
    return done(request, db, report)


@router.post("/{code}/sessions/{his_session_id}/withdraw", response_model=WithdrawalReport)
def withdraw_session(
    code: Code,
    his_session_id: Code,
    body: StaffWithdrawIn,
    actor: SchedulerDep,
    request: Request,
    db: DbDep,
    platform: PlatformDep,
) -> WithdrawalReport:
    """Withdraw a session (停诊) on the hospital's behalf; audited with the reason."""
    hospital = hospitals.get_hospital(db, code=code)
    report = staff_actions.withdraw_session(
        db,
        hospital=hospital,
        his_session_id=his_session_id,
        reason=body.reason,
        actor=actor,
        now=platform.clock.now(),
    )
    return done(request, db, report)


@router.post("/{code}/policy", response_model=PolicyOut)
def change_policy(
    code: Code,
    body: PolicyIn,
    actor: SchedulerDep,
    request: Request,
    db: DbDep,
    platform: PlatformDep,
) -> PolicyOut:
    """Change the release policy; sessions not yet released follow it (never released at
    the moment of the change). Audited with the before and after policies."""
    hospital = hospitals.get_hospital(db, code=code)
    recomputed = staff_actions.change_release_policy(
        db,
        hospital=hospital,
        actor=actor,
        now=platform.clock.now(),
        reason=body.reason,
        days_ahead=body.days_ahead,
        push_time=body.push_time,
        release_time=body.release_time,
        booking_close_minutes=body.booking_close_minutes,
    )
    out = PolicyOut(hospital=HospitalView.model_validate(hospital), sessions_recomputed=recomputed)
    return done(request, db, out)
