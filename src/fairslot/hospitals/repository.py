"""Every query on hospitals, departments and doctors."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from fairslot.hospitals.models import Department, Doctor, DoctorTitle, Hospital

_T = TypeVar("_T")
# Stay well under SQLite's and PostgreSQL's limits on bound parameters.
_IN_CHUNK = 1000


def by_code(db: Session, code: str) -> Hospital | None:
    return db.scalars(select(Hospital).where(Hospital.code == code)).one_or_none()


def by_key_hash(db: Session, key_hash: str) -> Hospital | None:
    return db.scalars(select(Hospital).where(Hospital.api_key_hash == key_hash)).one_or_none()


def lock(db: Session, *, hospital_id: int) -> None:
    """Take the hospital's row lock until the transaction ends.

    Schedule imports of one hospital then run one after the other, so two pushes of the
    same new session cannot both insert it. (SQLite already serialises writers.)
    """
    db.execute(select(Hospital.id).where(Hospital.id == hospital_id).with_for_update())


def list_hospitals(
    db: Session, *, city: str | None = None, grade: str | None = None
) -> list[Hospital]:
    stmt = select(Hospital).order_by(Hospital.code)
    if city is not None:
        stmt = stmt.where(Hospital.city == city)
    if grade is not None:
        stmt = stmt.where(Hospital.grade == grade)
    return list(db.scalars(stmt))


def department_by_code(db: Session, *, hospital_id: int, code: str) -> Department | None:
    return db.scalars(
        select(Department).where(Department.hospital_id == hospital_id, Department.code == code)
    ).one_or_none()


def departments_by_codes(
    db: Session, *, hospital_id: int, codes: Collection[str]
) -> dict[str, Department]:
    found: dict[str, Department] = {}
    for chunk in _chunks(sorted(set(codes))):
        for department in db.scalars(
            select(Department).where(
                Department.hospital_id == hospital_id, Department.code.in_(chunk)
            )
        ):
            found[department.code] = department
    return found


def departments_by_ids(db: Session, ids: Collection[int]) -> dict[int, Department]:
    found: dict[int, Department] = {}
    for chunk in _chunks(sorted(set(ids))):
        for department in db.scalars(select(Department).where(Department.id.in_(chunk))):
            found[department.id] = department
    return found


def list_departments(
    db: Session, *, hospital_id: int, specialty: str | None = None
) -> list[Department]:
    stmt = select(Department).where(Department.hospital_id == hospital_id).order_by(Department.code)
    if specialty is not None:
        stmt = stmt.where(Department.specialty == specialty)
    return list(db.scalars(stmt))


def doctor_by_code(db: Session, *, hospital_id: int, code: str) -> Doctor | None:
    return db.scalars(
        select(Doctor).where(Doctor.hospital_id == hospital_id, Doctor.code == code)
    ).one_or_none()


def doctors_by_codes(db: Session, *, hospital_id: int, codes: Collection[str]) -> dict[str, Doctor]:
    found: dict[str, Doctor] = {}
    for chunk in _chunks(sorted(set(codes))):
        for doctor in db.scalars(
            select(Doctor).where(Doctor.hospital_id == hospital_id, Doctor.code.in_(chunk))
        ):
            found[doctor.code] = doctor
    return found


def doctors_by_ids(db: Session, ids: Collection[int]) -> dict[int, Doctor]:
    found: dict[int, Doctor] = {}
    for chunk in _chunks(sorted(set(ids))):
        for doctor in db.scalars(select(Doctor).where(Doctor.id.in_(chunk))):
            found[doctor.id] = doctor
    return found


def list_doctors(
    db: Session,
    *,
    hospital_id: int,
    department_id: int | None = None,
    title: DoctorTitle | None = None,
) -> list[tuple[Doctor, str]]:
    """Doctors with their department's code."""
    stmt = (
        select(Doctor, Department.code)
        .join(Department, Department.id == Doctor.department_id)
        .where(Doctor.hospital_id == hospital_id)
        .order_by(Doctor.code)
    )
    if department_id is not None:
        stmt = stmt.where(Doctor.department_id == department_id)
    if title is not None:
        stmt = stmt.where(Doctor.title == title)
    return [(doctor, code) for doctor, code in db.execute(stmt).all()]


def _chunks(items: Sequence[_T]) -> Iterator[Sequence[_T]]:
    for start in range(0, len(items), _IN_CHUNK):
        yield items[start : start + _IN_CHUNK]
