from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel

from fairslot.hospitals.kinds import DoctorTitle, SexRestriction
from fairslot.schedules.states import Period


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


class FreeSlotView(BaseModel):
    slot_id: str
    number: int
    starts_at: datetime
    ends_at: datetime


class SessionAvailabilityView(BaseModel):
    session_id: int
    hospital_id: int
    department_id: int
    department_name: str
    doctor_id: int
    doctor_name: str
    doctor_title: DoctorTitle
    session_date: date
    period: Period
    starts_at: datetime
    ends_at: datetime
    fee: Decimal
    capacity: int
    free: int
    slots: list[FreeSlotView]
