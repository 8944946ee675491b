"""Request and response shapes of the channel booking API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Self

from pydantic import BaseModel, Field, model_validator

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


class ConfirmRequest(BaseModel):
    account_id: int = DbId
    payment_account: str = Field(min_length=1, max_length=64, pattern=PRINTABLE)
    payment_reference: str = Field(min_length=1, max_length=128, pattern=PRINTABLE)


class AccountRequest(BaseModel):
    account_id: int = DbId


class BookingView(BaseModel):
    booking_id: str
    status: BookingStatus
    slot_id: str
    slot_number: int
    session_id: int
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
    created_at: datetime
