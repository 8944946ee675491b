"""Hospitals and their departments and doctors: set up by an operator, kept current by the
hospital's schedule pushes. Services flush; the edge commits.

A hospital authenticates with an API key that is shown once, when it is made or rotated;
only its hash is stored.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from fairslot.crypto import hash_api_key, new_api_key
from fairslot.hospitals import repository as repo
from fairslot.hospitals.errors import (
    DepartmentNotFound,
    HospitalExists,
    HospitalNotFound,
    InvalidHospital,
)
from fairslot.hospitals.models import Department, Doctor, DoctorTitle, Hospital
from fairslot.hospitals.release_policy import ReleasePolicy
from fairslot.hospitals.schemas import (
    CODE_PATTERN,
    DepartmentIn,
    DepartmentView,
    DoctorIn,
    DoctorView,
    HospitalView,
)

MAX_DAYS_AHEAD = 60  # also a check constraint on the table
MAX_CLOSE_MINUTES = 24 * 60
MAX_INTENT_LEAD_MINUTES = 7 * 24 * 60  # a draw's entries open at most a week before it
_CODE = re.compile(CODE_PATTERN)


class Change(enum.StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


@dataclass
class UpsertCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    changes: dict[str, Change] = field(default_factory=dict)

    def add(self, code: str, change: Change) -> None:
        self.changes[code] = change
        setattr(self, change.value, getattr(self, change.value) + 1)


def policy_of(hospital: Hospital) -> ReleasePolicy:
    return ReleasePolicy(
        timezone=hospital.timezone,
        days_ahead=hospital.days_ahead,
        push_time=hospital.push_time,
        release_time=hospital.release_time,
        booking_close_minutes=hospital.booking_close_minutes,
    )


def create_hospital(
    db: Session,
    *,
    code: str,
    name: str,
    grade: str,
    city: str,
    timezone: str = "Asia/Shanghai",
    days_ahead: int = 7,
    push_time: time = time(0, 0),
    release_time: time = time(0, 30),
    booking_close_minutes: int = 30,
) -> tuple[Hospital, str]:
    """Register a hospital; returns it with its plain API key, which is not kept anywhere."""
    code = code.strip()
    if not (len(code) <= 32 and _CODE.fullmatch(code)):
        raise InvalidHospital(
            "A hospital code is 1-32 letters, digits, '.', '_', ':' or '-', starting with a "
            "letter or digit.",
            code="invalid_hospital_code",
        )
    hospital = Hospital(
        code=code,
        name=_text(name, field_name="name", max_length=200),
        grade=_text(grade, field_name="grade", max_length=32),
        city=_text(city, field_name="city", max_length=100),
        timezone=_timezone(timezone),
    )
    _apply_policy(
        hospital,
        days_ahead=days_ahead,
        push_time=push_time,
        release_time=release_time,
        booking_close_minutes=booking_close_minutes,
    )
    if repo.by_code(db, code) is not None:
        raise HospitalExists(f"A hospital with code {code!r} already exists.")
    key = new_api_key("hk")
    hospital.api_key_hash = hash_api_key(key)
    try:
        # The unique code is the last guard against two operators racing.
        with db.begin_nested():
            db.add(hospital)
            db.flush()
    except IntegrityError as exc:
        raise HospitalExists(f"A hospital with code {code!r} already exists.") from exc
    return hospital, key


def get_hospital(db: Session, *, code: str) -> Hospital:
    hospital = repo.by_code(db, code)
    if hospital is None:
        raise HospitalNotFound(
            f"No hospital has the code {code!r}.", detail_zh="没有该代码的医院。"
        )
    return hospital


def rotate_hospital_key(db: Session, *, hospital: Hospital) -> str:
    """Give the hospital a new API key; the old one stops working at once."""
    key = new_api_key("hk")
    hospital.api_key_hash = hash_api_key(key)
    db.flush()
    return key


def set_release_policy(
    hospital: Hospital,
    *,
    days_ahead: int | None = None,
    push_time: time | None = None,
    release_time: time | None = None,
    booking_close_minutes: int | None = None,
) -> None:
    """Check and set the hospital's release policy (None: unchanged). The times of its
    sessions still to come follow in ``schedules/release_change.py``, which calls this."""
    _apply_policy(
        hospital,
        days_ahead=hospital.days_ahead if days_ahead is None else days_ahead,
        push_time=hospital.push_time if push_time is None else push_time,
        release_time=hospital.release_time if release_time is None else release_time,
        booking_close_minutes=(
            hospital.booking_close_minutes
            if booking_close_minutes is None
            else booking_close_minutes
        ),
    )


def set_intent_lead(db: Session, *, hospital: Hospital, minutes: int | None) -> None:
    """Open the hospital's draw windows ``minutes`` before the release instead of at the
    push (None: at the push). Draws already open keep their window; the next ones follow."""
    if minutes is not None and not 0 <= minutes <= MAX_INTENT_LEAD_MINUTES:
        raise InvalidHospital(
            f"intent_lead_minutes must be between 0 and {MAX_INTENT_LEAD_MINUTES}.",
            code="invalid_intent_lead",
        )
    hospital.intent_lead_minutes = minutes
    db.flush()


def upsert_departments(
    db: Session, *, hospital: Hospital, specs: Iterable[DepartmentIn]
) -> UpsertCounts:
    specs = list(specs)
    existing = repo.departments_by_codes(
        db, hospital_id=hospital.id, codes=[spec.code for spec in specs]
    )
    counts = UpsertCounts()
    for spec in specs:
        department = existing.get(spec.code)
        if department is None:
            department = Department(
                hospital_id=hospital.id,
                code=spec.code,
                name=spec.name,
                specialty=spec.specialty,
                sex_restriction=spec.sex_restriction,
                min_age=spec.min_age,
                max_age=spec.max_age,
                allocation_mode=spec.allocation_mode,
            )
            db.add(department)
            existing[spec.code] = department
            counts.add(spec.code, Change.CREATED)
            continue
        counts.add(spec.code, _assign(department, _department_fields(spec)))
    db.flush()
    return counts


def upsert_department(
    db: Session, *, hospital: Hospital, spec: DepartmentIn
) -> tuple[Department, Change]:
    counts = upsert_departments(db, hospital=hospital, specs=[spec])
    department = repo.department_by_code(db, hospital_id=hospital.id, code=spec.code)
    assert department is not None  # just written
    return department, counts.changes[spec.code]


def upsert_doctors(db: Session, *, hospital: Hospital, specs: Iterable[DoctorIn]) -> UpsertCounts:
    """Upsert doctors; every doctor's department must already exist at this hospital."""
    specs = list(specs)
    departments = repo.departments_by_codes(
        db, hospital_id=hospital.id, codes=[spec.department for spec in specs]
    )
    missing = sorted({spec.department for spec in specs} - departments.keys())
    if missing:
        raise DepartmentNotFound(
            f"Unknown department code(s) for doctors: {', '.join(missing[:20])}. "
            "Send the departments first (or in the same document).",
            departments=missing,
        )
    existing = repo.doctors_by_codes(db, hospital_id=hospital.id, codes=[s.code for s in specs])
    counts = UpsertCounts()
    for spec in specs:
        department_id = departments[spec.department].id
        doctor = existing.get(spec.code)
        if doctor is None:
            doctor = Doctor(
                hospital_id=hospital.id,
                department_id=department_id,
                code=spec.code,
                name=spec.name,
                title=spec.title,
            )
            db.add(doctor)
            existing[spec.code] = doctor
            counts.add(spec.code, Change.CREATED)
            continue
        counts.add(spec.code, _assign(doctor, _doctor_fields(spec, department_id)))
    db.flush()
    return counts


def upsert_doctor(db: Session, *, hospital: Hospital, spec: DoctorIn) -> tuple[Doctor, Change]:
    counts = upsert_doctors(db, hospital=hospital, specs=[spec])
    doctor = repo.doctor_by_code(db, hospital_id=hospital.id, code=spec.code)
    assert doctor is not None  # just written
    return doctor, counts.changes[spec.code]


def list_hospitals(
    db: Session, *, city: str | None = None, grade: str | None = None
) -> list[HospitalView]:
    return [HospitalView.model_validate(h) for h in repo.list_hospitals(db, city=city, grade=grade)]


def list_departments(
    db: Session, *, hospital: Hospital, specialty: str | None = None
) -> list[DepartmentView]:
    return [
        DepartmentView.model_validate(d)
        for d in repo.list_departments(db, hospital_id=hospital.id, specialty=specialty)
    ]


def list_doctors(
    db: Session,
    *,
    hospital: Hospital,
    department_code: str | None = None,
    title: DoctorTitle | None = None,
) -> list[DoctorView]:
    department_id: int | None = None
    if department_code is not None:
        department = repo.department_by_code(db, hospital_id=hospital.id, code=department_code)
        if department is None:
            raise DepartmentNotFound(f"No department has the code {department_code!r}.")
        department_id = department.id
    rows = repo.list_doctors(db, hospital_id=hospital.id, department_id=department_id, title=title)
    return [
        DoctorView(code=doctor.code, name=doctor.name, title=doctor.title, department=code)
        for doctor, code in rows
    ]


def department_change(row: Department | None, spec: DepartmentIn) -> Change:
    """What upserting ``spec`` would do to the stored department (None: a new one)."""
    if row is None:
        return Change.CREATED
    return Change.UPDATED if _differs(row, _department_fields(spec)) else Change.UNCHANGED


def doctor_change(row: Doctor | None, spec: DoctorIn, *, department_id: int | None) -> Change:
    """What upserting ``spec`` would do to the stored doctor (None: a new one);
    ``department_id`` is None for a department the same push creates."""
    if row is None:
        return Change.CREATED
    if department_id is None:
        return Change.UPDATED  # moves to a department that does not exist yet
    wanted = _doctor_fields(spec, department_id)
    return Change.UPDATED if _differs(row, wanted) else Change.UNCHANGED


def _department_fields(spec: DepartmentIn) -> dict[str, object]:
    # Optional fields change only when the document gives them: a push that leaves
    # out sex_restriction must not lift a gynaecology restriction.
    return {"name": spec.name, "specialty": spec.specialty} | {
        name: getattr(spec, name)
        for name in ("sex_restriction", "min_age", "max_age", "allocation_mode")
        if name in spec.model_fields_set
    }


def _doctor_fields(spec: DoctorIn, department_id: int) -> dict[str, object]:
    return {"name": spec.name, "title": spec.title, "department_id": department_id}


def _differs(row: Department | Doctor, wanted: dict[str, object]) -> bool:
    return any(getattr(row, name) != value for name, value in wanted.items())


def _assign(row: Department | Doctor, wanted: dict[str, object]) -> Change:
    changed = False
    for name, value in wanted.items():
        if getattr(row, name) != value:
            setattr(row, name, value)
            changed = True
    return Change.UPDATED if changed else Change.UNCHANGED


def _apply_policy(
    hospital: Hospital,
    *,
    days_ahead: int,
    push_time: time,
    release_time: time,
    booking_close_minutes: int,
) -> None:
    if not 0 <= days_ahead <= MAX_DAYS_AHEAD:
        raise InvalidHospital(
            f"days_ahead must be between 0 and {MAX_DAYS_AHEAD}.", code="invalid_days_ahead"
        )
    if not 0 <= booking_close_minutes <= MAX_CLOSE_MINUTES:
        raise InvalidHospital(
            f"booking_close_minutes must be between 0 and {MAX_CLOSE_MINUTES}.",
            code="invalid_close_minutes",
        )
    if push_time.tzinfo is not None or release_time.tzinfo is not None:
        raise InvalidHospital(
            "push_time and release_time are wall-clock times in the hospital's zone; "
            "give them without a time zone.",
            code="invalid_release_time",
        )
    if push_time > release_time:
        raise InvalidHospital(
            "Slots must be pushed before they are released: push_time <= release_time.",
            code="invalid_release_time",
        )
    hospital.days_ahead = days_ahead
    hospital.push_time = push_time
    hospital.release_time = release_time
    hospital.booking_close_minutes = booking_close_minutes


def _text(value: str, *, field_name: str, max_length: int) -> str:
    value = value.strip()
    if not 1 <= len(value) <= max_length or not value.isprintable():
        raise InvalidHospital(
            f"{field_name} must be 1-{max_length} printable characters.",
            code=f"invalid_hospital_{field_name}",
        )
    return value


def _timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise InvalidHospital(
            f"{name!r} is not a known time zone (use an IANA name such as Asia/Shanghai).",
            code="invalid_timezone",
        ) from exc
    return name
