"""Schedulers' staff API: a hospital's sessions, withdrawing one, its release policy."""

from __future__ import annotations

from datetime import date, time
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from fairslot.api.deps import DbDep, PlatformDep, done
from fairslot.api.staff_deps import SchedulerDep
from fairslot.hospitals import service as hospitals
from fairslot.hospitals import staff_actions
from fairslot.hospitals.schemas import CODE_PATTERN, HospitalView
from fairslot.schedules import views
from fairslot.schedules.schemas import SessionView, WithdrawalReport

router = APIRouter(prefix="/staff/v1/hospitals", tags=["staff: scheduling"])

Code = Annotated[str, Path(min_length=1, max_length=64, pattern=CODE_PATTERN)]


class StaffWithdrawIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=200)


class PolicyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=500)
    days_ahead: int | None = Field(None, ge=0, le=30)
    push_time: time | None = None
    release_time: time | None = None
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
) -> list[SessionView]:
    """A hospital's sessions on a local date, released or not, with slot counts by state."""
    hospital = hospitals.get_hospital(db, code=code)
    now = platform.clock.now()
    sessions = views.list_sessions(
        db, hospital=hospital, day=day or views.local_today(hospital, now), now=now
    )
    return done(request, db, sessions)


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
