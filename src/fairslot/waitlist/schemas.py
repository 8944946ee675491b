"""Request and response shapes of the waitlist (候补) API."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from fairslot.bookings.schemas import DbId, PaymentAccount, PaymentReference
from fairslot.waitlist.models import WaitStatus


class JoinRequest(BaseModel):
    account_id: int = DbId
    patient_id: int = DbId
    session_id: int = DbId
    payment_account: PaymentAccount = Field(
        description="pre-authorised: charged only if a slot is booked for the patient"
    )
    payment_reference: PaymentReference


class WaitlistEntryView(BaseModel):
    waitlist_id: str
    status: WaitStatus
    session_id: int
    department_id: int
    session_date: date
    patient_id: int
    account_id: int
    joined_at: datetime = Field(description="in the hospital's time zone")
    decided_at: datetime | None
    booking_id: str | None = Field(description="the booking made for the patient, once booked")
    payment_account: str = Field(description="masked")
