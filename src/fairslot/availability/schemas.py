from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel, Field

from fairslot.allocation.states import AllocationMode
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
    allocation_mode: AllocationMode = Field(
        description="first_come: the first to hold a released slot gets it; draw: patients "
        "register an intent before release and a verifiable draw allocates the slots"
    )


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
    session_id: int = Field(description="the platform's id, used by holds, intents, waitlist")
    his_session_id: str = Field(description="the hospital's own id of the session (its HIS)")
    hospital_id: int
    department_id: int
    department_name: str
    allocation_mode: AllocationMode
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
