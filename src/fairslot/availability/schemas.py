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
        "register an intent before release and a verifiable draw allocates the slots; "
        "release_batch: holds in the first seconds after release enter a batch that is "
        "drawn at the window's end, then the leftovers sell first-come. The effective "
        "mode: a department the platform judges scarce is never first_come"
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
    allocation_mode: AllocationMode = Field(description="the effective mode (see departments)")
    release_batch_ends_at: datetime | None = Field(
        None,
        description="release_batch: holds until then enter the batch (202), drawn then; "
        "after it has run, the slots left sell first-come",
    )
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
