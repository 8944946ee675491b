"""Factories for the supply side: hospitals, departments, doctors and pushed sessions.

They go through the services (so the data is what a real push would store) and only
flush; a test commits what it arranges when another session must see it.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from fairslot.context import RequestContext
from fairslot.hospitals import service as hospitals
from fairslot.hospitals.models import Department, Doctor, DoctorTitle, Hospital
from fairslot.hospitals.schemas import DepartmentIn, DoctorIn
from fairslot.schedules import repository as schedules_repo
from fairslot.schedules import service as schedules
from fairslot.schedules.formats import ScheduleDocument, SessionSpec
from fairslot.schedules.models import ClinicSession
from fairslot.schedules.release import session_times
from fairslot.schedules.schemas import ImportReport
from fairslot.schedules.states import Period, SessionStatus

_serial = itertools.count(1)


def create_hospital_with_key(db: Session, **overrides: Any) -> tuple[Hospital, str]:
    n = next(_serial)
    values: dict[str, Any] = {
        "code": f"H{n:04d}",
        "name": f"第{n}人民医院",
        "grade": "三级甲等",
        "city": "福州",
    }
    values.update(overrides)
    return hospitals.create_hospital(db, **values)


def create_hospital(db: Session, **overrides: Any) -> Hospital:
    return create_hospital_with_key(db, **overrides)[0]


def create_department(db: Session, *, hospital: Hospital, **overrides: Any) -> Department:
    n = next(_serial)
    values: dict[str, Any] = {"code": f"D{n:04d}", "name": f"内科{n}", "specialty": "internal"}
    values.update(overrides)
    department, _ = hospitals.upsert_department(db, hospital=hospital, spec=DepartmentIn(**values))
    return department


def create_doctor(
    db: Session, *, hospital: Hospital, department: Department, **overrides: Any
) -> Doctor:
    n = next(_serial)
    values: dict[str, Any] = {
        "code": f"DR{n:04d}",
        "name": f"医生{n}",
        "title": DoctorTitle.CHIEF,
        "department": department.code,
    }
    values.update(overrides)
    doctor, _ = hospitals.upsert_doctor(db, hospital=hospital, spec=DoctorIn(**values))
    return doctor


def session_spec(
    *,
    department: Department,
    doctor: Doctor,
    date: dt.date,
    capacity: int = 10,
    his_session_id: str | None = None,
    period: Period = Period.MORNING,
    start: dt.time = dt.time(8, 0),
    end: dt.time = dt.time(12, 0),
    fee: Decimal | str = "50.00",
    status: SessionStatus = SessionStatus.ACTIVE,
) -> SessionSpec:
    return SessionSpec(
        his_session_id=his_session_id or f"S{next(_serial):06d}",
        department=department.code,
        doctor=doctor.code,
        session_date=date,
        period=period,
        local_start=start,
        local_end=end,
        fee=Decimal(fee),
        capacity=capacity,
        status=status,
    )


def push(
    db: Session,
    *,
    hospital: Hospital,
    sessions: list[SessionSpec],
    now: dt.datetime,
    on_time: bool = True,
) -> ImportReport:
    """Push a schedule document of ``sessions`` as the hospital's system would.

    ``on_time``: the HIS pushed them at their push time (never later than ``now``), so
    they are released on the policy's clock; ``False`` pushes at ``now``, which makes
    already-released sessions late supply (released after a random delay).
    """
    at = now
    if on_time and sessions:
        policy = hospitals.policy_of(hospital)
        at = min(
            now,
            *(
                session_times(
                    policy,
                    session_date=s.session_date,
                    local_start=s.local_start,
                    local_end=s.local_end,
                ).push_at
                for s in sessions
            ),
        )
    return schedules.import_schedule(
        db,
        doc=ScheduleDocument(hospital=hospital.code, sessions=tuple(sessions)),
        now=at,
        ctx=RequestContext(actor=f"hospital:{hospital.code}"),
        rng=random.Random(7),
    )


def import_session(
    db: Session,
    *,
    hospital: Hospital,
    department: Department,
    doctor: Doctor,
    date: dt.date,
    now: dt.datetime,
    capacity: int = 10,
    **spec_overrides: Any,
) -> ClinicSession:
    """Push one session with ``capacity`` slots and return it."""
    spec = session_spec(
        department=department, doctor=doctor, date=date, capacity=capacity, **spec_overrides
    )
    push(db, hospital=hospital, sessions=[spec], now=now)
    session = schedules_repo.session_by_his_id(
        db, hospital_id=hospital.id, his_session_id=spec.his_session_id
    )
    assert session is not None
    return session
