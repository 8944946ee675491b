"""Hospital API for allocation modes: see what the platform decided for a department and
why, and override it (audited; a scarce department can never be made first-come)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from sqlalchemy.orm import Session

from fairslot.allocation import batch_views, modes
from fairslot.allocation.batch_rules import window_seconds
from fairslot.allocation.batch_schemas import (
    AllocationModeView,
    AllocationOverrideRequest,
    BatchWindowRequest,
    BatchWindowView,
)
from fairslot.api.deps import DbDep, HospitalDep, PlatformDep, done
from fairslot.bookings.policy import booking_policy
from fairslot.bootstrap import Platform
from fairslot.hospitals.models import Hospital

router = APIRouter(prefix="/hospital/v1", tags=["hospital"])

DepartmentId = Annotated[int, Path(ge=1, le=2**31 - 1)]


@router.get("/departments/{department_id}/allocation", response_model=AllocationModeView)
def get_allocation(
    request: Request,
    department_id: DepartmentId,
    hospital: HospitalDep,
    db: DbDep,
    platform: PlatformDep,
) -> AllocationModeView:
    """The department's modes (schedule, override, effective), the platform's latest
    scarcity verdict with the release days it read, and the decisions so far."""
    return _answer(request, db, platform, hospital, department_id)


@router.put("/departments/{department_id}/allocation", response_model=AllocationModeView)
def override_allocation(
    request: Request,
    department_id: DepartmentId,
    body: AllocationOverrideRequest,
    hospital: HospitalDep,
    db: DbDep,
    platform: PlatformDep,
) -> AllocationModeView:
    """Override the platform's decision (``first_come`` is refused, 409
    ``scarce_release_cannot_race``, where the department is scarce). Recorded."""
    modes.override(
        db,
        department_id=department_id,
        hospital_id=hospital.id,
        mode=body.mode,
        actor=f"hospital:{hospital.code}",
        now=platform.clock.now(),
    )
    return _answer(request, db, platform, hospital, department_id)


@router.put("/release-batch-window", response_model=BatchWindowView)
def set_batch_window(
    request: Request,
    body: BatchWindowRequest,
    hospital: HospitalDep,
    db: DbDep,
    platform: PlatformDep,
) -> BatchWindowView:
    """The hospital's release-batch window (10-300 s; null: the platform's default).
    Recorded on every department's decisions; batches already published keep theirs."""
    count = modes.set_batch_window(
        db,
        hospital_id=hospital.id,
        seconds=body.window_seconds,
        actor=f"hospital:{hospital.code}",
        now=platform.clock.now(),
    )
    seconds = window_seconds(
        hospital_seconds=body.window_seconds,
        platform_default=booking_policy(platform.settings).batch_window_seconds,
    )
    return done(request, db, BatchWindowView(window_seconds=seconds, departments=count))


def _answer(
    request: Request, db: Session, platform: Platform, hospital: Hospital, department_id: int
) -> AllocationModeView:
    """The department's modes as both the read and the override answer them."""
    found = modes.view(
        db,
        department_id=department_id,
        hospital_id=hospital.id,
        default_seconds=booking_policy(platform.settings).batch_window_seconds,
    )
    return done(request, db, batch_views.mode_view(found))
