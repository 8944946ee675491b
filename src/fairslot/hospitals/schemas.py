"""What a hospital tells the platform about its departments and doctors, and what the
platform shows back. The input models are shared by the schedule formats (JSON and CSV)."""

from __future__ import annotations

from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from fairslot.allocation.states import AllocationMode
from fairslot.hospitals.kinds import DoctorTitle, SexRestriction
from fairslot.timeofday import LocalTime

# Codes travel in URLs and CSV cells: keep them plain.
CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]*$"

Code = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32, pattern=CODE_PATTERN)
]
SpecialtyCode = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=2, max_length=64, pattern=r"^[a-z][a-z0-9_-]*$"
    ),
]
Age = Annotated[int, Field(ge=0, le=150)]
# No control characters: PostgreSQL refuses NUL in text, and no name needs a tab or newline.
PLAIN_TEXT_PATTERN = r"^[^\x00-\x1f\x7f]+$"
LongName = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=200, pattern=PLAIN_TEXT_PATTERN
    ),
]
ShortName = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=100, pattern=PLAIN_TEXT_PATTERN
    ),
]


class DepartmentIn(BaseModel):
    """A department upsert. On update, only the fields the document gives are changed
    (``model_fields_set``), so leaving out ``sex_restriction`` never lifts a restriction."""

    model_config = ConfigDict(frozen=True, extra="forbid", coerce_numbers_to_str=True)

    code: Code
    name: LongName
    specialty: SpecialtyCode
    sex_restriction: SexRestriction = SexRestriction.ANY
    min_age: Age | None = None
    max_age: Age | None = None
    # "draw": scarce sessions go to a verifiable release draw; "first_come": instant sale
    # (a clinic the platform judges scarce is still batched: allocation/modes.py).
    allocation_mode: AllocationMode = AllocationMode.FIRST_COME

    @model_validator(mode="after")
    def _age_range(self) -> Self:
        if self.min_age is not None and self.max_age is not None and self.min_age > self.max_age:
            raise ValueError("min_age must not be greater than max_age")
        return self

    @model_validator(mode="after")
    def _schedule_modes(self) -> Self:
        # The schedule sets first_come or draw; a release batch is chosen with the
        # allocation override (PUT /hospital/v1/departments/{id}/allocation), audited.
        if self.allocation_mode == AllocationMode.RELEASE_BATCH:
            raise ValueError(
                "allocation_mode is first_come or draw in a schedule; choose release_batch "
                "with PUT /hospital/v1/departments/{id}/allocation"
            )
        return self


class DoctorIn(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", coerce_numbers_to_str=True)

    code: Code
    name: ShortName
    title: DoctorTitle
    department: Code


class HospitalView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name: str
    grade: str
    city: str
    timezone: str
    days_ahead: int
    push_time: LocalTime
    release_time: LocalTime
    booking_close_minutes: int


class DepartmentView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name: str
    specialty: str
    sex_restriction: SexRestriction
    min_age: int | None
    max_age: int | None
    allocation_mode: AllocationMode = AllocationMode.FIRST_COME


class DoctorView(BaseModel):
    code: str
    name: str
    title: DoctorTitle
    department: str
