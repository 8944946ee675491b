"""Channel API: browse hospitals, departments and doctors.

Browsing counts against the device and IP rate limits like every channel request
(``ContextDep``), so a script cannot crawl the catalogue unthrottled.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request

from fairslot.api.deps import ContextDep, DbDep, done
from fairslot.availability import catalog
from fairslot.availability.schemas import DepartmentCard, DoctorCard, HospitalCard
from fairslot.hospitals.models import DoctorTitle

router = APIRouter(prefix="/v1", tags=["channel"])
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]


@router.get("/hospitals", response_model=list[HospitalCard])
def hospitals(
    request: Request,
    db: DbDep,
    _: ContextDep,
    city: Annotated[str | None, Query(max_length=100)] = None,
    grade: Annotated[str | None, Query(max_length=32)] = None,
) -> list[HospitalCard]:
    return done(request, db, catalog.hospitals_list(db, city=city, grade=grade))


@router.get("/hospitals/{hospital_id}/departments", response_model=list[DepartmentCard])
def departments(
    request: Request,
    hospital_id: Id,
    db: DbDep,
    _: ContextDep,
    specialty: Annotated[str | None, Query(max_length=64)] = None,
) -> list[DepartmentCard]:
    """The departments, each with its effective ``allocation_mode`` (a scarce clinic is
    ``release_batch`` or ``draw``, never ``first_come``)."""
    return done(
        request, db, catalog.departments_list(db, hospital_id=hospital_id, specialty=specialty)
    )


@router.get("/departments/{department_id}/doctors", response_model=list[DoctorCard])
def doctors(
    request: Request, department_id: Id, db: DbDep, _: ContextDep, title: DoctorTitle | None = None
) -> list[DoctorCard]:
    return done(request, db, catalog.doctors_list(db, department_id=department_id, title=title))
