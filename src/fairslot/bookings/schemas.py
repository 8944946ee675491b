"""Request and response shapes of the channel booking API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Self

from pydantic import BaseModel, Field, StringConstraints, model_validator

from fairslot.bookings.states import BookingStatus

MAX_ID = 2**31 - 1
DbId = Field(ge=1, le=MAX_ID)


class HoldRequest(BaseModel):
    account_id: int = DbId
    patient_id: int = DbId
    slot_id: str | None = Field(None, min_length=1, max_length=36)
    session_id: int | None = Field(None, ge=1, le=MAX_ID)

    @model_validator(mode="after")
    def _one_target(self) -> Self:
        if (self.slot_id is None) == (self.session_id is None):
            raise ValueError("give exactly one of slot_id or session_id")
        return self


# Printable text only: a payment account of control characters is not an account.
PRINTABLE = r"^[^\x00-\x1f\x7f]+$"

# The payment fields of every request that pays or pre-authorises (confirm, intents,
# waitlist), defined once so that the three accept the same values. Their lengths are the
# columns' (``payment_account_masked`` 64, ``payment_reference`` 128); any printable
# character, Chinese included; surrounding spaces are dropped.
PaymentAccount = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=64, pattern=PRINTABLE),
]
PaymentReference = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=128, pattern=PRINTABLE),
]


class ConfirmRequest(BaseModel):
    account_id: int = DbId
    payment_account: PaymentAccount
    payment_reference: PaymentReference


class AccountRequest(BaseModel):
    account_id: int = DbId


class BookingView(BaseModel):
    booking_id: str
    status: BookingStatus
    slot_id: str
    slot_number: int
    session_id: int = Field(description="the platform's id of the session")
    his_session_id: str = Field(description="the hospital's own id of the session (its HIS)")
    department_id: int
    session_date: date
    slot_starts_at: datetime = Field(description="in the hospital's time zone")
    slot_ends_at: datetime
    held_at: datetime
    hold_expires_at: datetime
    booked_at: datetime | None
    ended_at: datetime | None
    payment_account: str | None = Field(description="masked")


class NotificationView(BaseModel):
    id: int
    kind: str
    account_id: int | None
    booking_id: str | None
    payload: dict[str, object]
    created_at: datetime = Field(description="in the hospital's time zone")


class AccountBookingView(BookingView):
    hospital_name: str
    department_name: str
    doctor_name: str
    patient_id: int
    patient_name_masked: str
    cancellable: bool = Field(description="whether a cancellation would be accepted now")
    cancel_by: datetime | None = Field(
        description="the last moment to cancel online (hospital's zone); None for a hold"
    )


class AccountBookingsPage(BaseModel):
    items: list[AccountBookingView]
    limit: int
    offset: int
    next_offset: int | None = Field(description="the offset of the next page, if any")


class PatientBan(BaseModel):
    patient_id: int
    name_masked: str
    until: date = Field(description="the ban ends at the start of this day (China time)")
