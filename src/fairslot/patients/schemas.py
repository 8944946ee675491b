"""What channels send about accounts and patients, and what they get back.

Responses carry only masked personal data: never a full ID number, phone or name.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from fairslot.patients.identity import Sex


class AccountCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    phone: str = Field(min_length=1, max_length=32, examples=["13812345678"])
    external_ref: str | None = Field(
        None, max_length=128, description="The channel's own id for this user, if any."
    )


class AccountView(BaseModel):
    account_id: int
    phone_masked: str


class PatientBind(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=50, examples=["王小明"])
    id_number: str = Field(min_length=1, max_length=32, description="18-digit resident ID.")
    phone: str = Field(min_length=1, max_length=32)
    insurance_card: str | None = Field(None, max_length=64)
    relation: str = Field("self", max_length=32, examples=["self", "parent", "child"])


class PatientView(BaseModel):
    """One bound patient as the account sees them."""

    patient_id: int
    name_masked: str
    id_number_masked: str
    phone_masked: str
    sex: Sex
    birth_year: int
    age: int
    relation: str
    has_insurance: bool
