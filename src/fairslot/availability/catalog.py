"""What channels may browse: hospitals, their departments and doctors (ids included,
since availability and holds are asked by id)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from fairslot.availability import repository as availability
from fairslot.availability.schemas import DepartmentCard, DoctorCard, HospitalCard
from fairslot.errors import NotFound
from fairslot.hospitals import repository as hospitals
from fairslot.hospitals.allocation_policy import effective_mode_of
from fairslot.hospitals.models import DoctorTitle


def hospitals_list(db: Session, *, city: str | None, grade: str | None) -> list[HospitalCard]:
    return [
        HospitalCard(
            id=h.id,
            code=h.code,
            name=h.name,
            grade=h.grade,
            city=h.city,
            timezone=h.timezone,
            days_ahead=h.days_ahead,
            release_time=h.release_time.strftime("%H:%M"),
        )
        for h in hospitals.list_hospitals(db, city=city, grade=grade)
    ]


def departments_list(
    db: Session,
    *,
    hospital_id: int,
    specialty: str | None,
) -> list[DepartmentCard]:
    """The hospital's departments, each with the mode the platform enforces."""
    if not availability.hospital_exists(db, hospital_id):
        raise NotFound("No hospital has this id.", code="hospital_not_found")
    return [
        DepartmentCard(
            id=d.id,
            hospital_id=d.hospital_id,
            code=d.code,
            name=d.name,
            specialty=d.specialty,
            sex_restriction=d.sex_restriction,
            min_age=d.min_age,
            max_age=d.max_age,
            allocation_mode=effective_mode_of(d),
        )
        for d in hospitals.list_departments(db, hospital_id=hospital_id, specialty=specialty)
    ]


def doctors_list(db: Session, *, department_id: int, title: DoctorTitle | None) -> list[DoctorCard]:
    department = hospitals.departments_by_ids(db, [department_id]).get(department_id)
    if department is None:
        raise NotFound("No department has this id.", code="department_not_found")
    return [
        DoctorCard(id=doc.id, department_id=department_id, name=doc.name, title=doc.title)
        for doc, _ in hospitals.list_doctors(
            db, hospital_id=department.hospital_id, department_id=department_id, title=title
        )
    ]
