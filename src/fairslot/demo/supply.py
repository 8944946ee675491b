"""The demo's supply: each hospital's departments and doctors, and its schedule pushes
for today .. today+7 and day+8 (which waits for its release). Only flushes."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from fairslot.allocation.states import AllocationMode
from fairslot.context import RequestContext
from fairslot.demo import catalog
from fairslot.hospitals import service as hospitals
from fairslot.hospitals.models import DoctorTitle, Hospital
from fairslot.hospitals.schemas import DepartmentIn, DoctorIn
from fairslot.schedules import repository as schedules_repo
from fairslot.schedules import service as schedules
from fairslot.schedules.formats import ScheduleDocument, SessionSpec
from fairslot.schedules.release import ReleasePolicy, is_released, session_times
from fairslot.schedules.views import local_today

DAYS_RELEASED = 8  # today .. today+7: the booking horizon


@dataclass
class DemoSummary:
    hospitals: int = 0
    departments: int = 0
    doctors: int = 0
    doctors_by_title: dict[str, int] = field(
        default_factory=lambda: {title.value: 0 for title in DoctorTitle}
    )
    sessions_released: int = 0  # visible now, by the release rule
    sessions_unreleased: int = 0  # pushed, waiting for their release time
    slots: int = 0
    channels: int = 0
    accounts: int = 0
    patients: int = 0
    bookings: int = 0
    staff: int = 0
    # Yesterday's scalper history (``demo/scalpers.py``) and the batch run over it.
    scalper_bookings: int = 0
    risk_alerts: int = 0
    cases_opened: int = 0
    # The call desk's and the blacklist's first morning (``demo/desk.py``).
    call_tasks: int = 0
    blacklist_entries: int = 0


def staff_hospital(
    db: Session,
    *,
    hospital: Hospital,
    demo: catalog.DemoHospital,
    rng: random.Random,
    summary: DemoSummary,
) -> list[catalog.PlannedDoctor]:
    """Upsert the hospital's departments and doctors; returns the doctors' weekly plan."""
    departments = catalog.departments_of(demo)
    hospitals.upsert_departments(
        db, hospital=hospital, specs=[department_in(d) for d in departments]
    )
    staff = [
        doctor for d in departments for doctor in catalog.plan_doctors(demo, department=d, rng=rng)
    ]
    hospitals.upsert_doctors(
        db,
        hospital=hospital,
        specs=[
            DoctorIn(code=d.code, name=d.name, title=d.title, department=d.department.code)
            for d in staff
        ],
    )
    summary.departments += len(departments)
    summary.doctors += len(staff)
    for doctor in staff:
        summary.doctors_by_title[doctor.title.value] += 1
    return staff


def department_in(department: catalog.DemoDepartment) -> DepartmentIn:
    return DepartmentIn(
        code=department.code,
        name=department.name,
        specialty=department.specialty,
        sex_restriction=department.sex,
        min_age=department.min_age,
        max_age=department.max_age,
        allocation_mode=AllocationMode.DRAW if department.drawn else AllocationMode.FIRST_COME,
    )


def push(
    db: Session, *, hospital: Hospital, staff: Sequence[catalog.PlannedDoctor], now: datetime
) -> list[SessionSpec]:
    """The hospital's two pushes: the booking horizon, then day+8 (not yet released)."""
    today = local_today(hospital, now)
    ctx = RequestContext(actor=f"hospital:{hospital.code}")
    horizon = [today + timedelta(days=n) for n in range(DAYS_RELEASED)]
    pushes = [
        catalog.plan_sessions(staff, days=horizon),
        catalog.plan_sessions(staff, days=[horizon[-1] + timedelta(days=1)]),
    ]
    policy = hospitals.policy_of(hospital)
    by_day: dict[date, list[SessionSpec]] = {}
    for spec in (spec for specs in pushes for spec in specs):
        by_day.setdefault(spec.session_date, []).append(spec)
    for _day, specs in sorted(by_day.items()):
        # The HIS pushed each day at its push time (00:00, seven days ahead), so the demo's
        # past pushes are dated then, before their release; day+8 is pushed early, now.
        pushed_at = min(now, push_at(policy, specs[0]))
        doc = ScheduleDocument(hospital=hospital.code, sessions=tuple(specs))
        report = schedules.import_schedule(
            db, doc=doc, now=pushed_at, ctx=ctx, as_hospital=hospital
        )
        if report.rejected:  # the plan is ours: a rejection is a bug in it
            reasons = {s.reason for s in report.sessions if s.reason}
            raise RuntimeError(f"demo sessions rejected at {hospital.code}: {reasons}")
    return [spec for specs in pushes for spec in specs]


def push_at(policy: ReleasePolicy, spec: SessionSpec) -> datetime:
    return session_times(
        policy,
        session_date=spec.session_date,
        local_start=spec.local_start,
        local_end=spec.local_end,
    ).push_at


def release_instant(policy: ReleasePolicy, spec: SessionSpec) -> datetime:
    return session_times(
        policy,
        session_date=spec.session_date,
        local_start=spec.local_start,
        local_end=spec.local_end,
    ).release_at


def first_session(
    db: Session,
    *,
    hospital: Hospital,
    specs: Sequence[SessionSpec],
    department: str,
    after: date,
    now: datetime,
) -> int | None:
    """The database id of the department's earliest released session after ``after``."""
    policy = hospitals.policy_of(hospital)
    candidates = sorted(
        (
            spec
            for spec in specs
            if spec.department == department
            and spec.session_date > after
            and is_released(release_instant(policy, spec), now)
        ),
        key=lambda spec: (spec.session_date, spec.local_start),
    )
    if not candidates:
        return None
    session = schedules_repo.session_by_his_id(
        db, hospital_id=hospital.id, his_session_id=candidates[0].his_session_id
    )
    return session.id if session is not None else None
