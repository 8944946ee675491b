from __future__ import annotations

from pydantic import BaseModel

from fairslot.hospitals.kinds import DoctorTitle, SexRestriction


class HospitalCard(BaseModel):
    id: int
    code: str
    name: str
    grade: str
    city: str
    timezone: str
    days_ahead: int
    release_time: str


class DepartmentCard(BaseModel):
    id: int
    hospital_id: int
    code: str
    name: str
    specialty: str
    sex_restriction: SexRestriction
    min_age: int | None
    max_age: int | None


class DoctorCard(BaseModel):
    id: int
    department_id: int
    name: str
    title: DoctorTitle
