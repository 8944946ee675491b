"""Request and response shapes of the follow-up call API (``/staff/v1/calls``).

Customer service must dial the patient, so the agent holding a call sees the phone number
in full (and that view is audited); anyone else sees it masked. Times are in the
hospital's zone.
"""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from fairslot.followup.states import CallOutcome, CallReason, CallStatus


class CallBooking(BaseModel):
    booking_id: str
    status: str
    department: str
    doctor: str
    doctor_title: str
    session_date: date
    period: str
    channel: str
    booked_at: datetime | None


class CallPatient(BaseModel):
    patient_id: int
    name: str
    phone: str = Field(description="in full for the agent holding the call, masked otherwise")
    phone_in_full: bool
    sex: str | None = Field(None, description="male or female, from the resident ID")
    age: int | None = Field(None, description="age in years today, in the hospitals' zone")


class CallTaskView(BaseModel):
    task_id: int
    reason: CallReason = Field(description="flagged: a reviewer asked; sample: routine check")
    status: CallStatus
    case_id: int | None
    question: str | None = Field(description="what the reviewer wants asked")
    patient: CallPatient
    booking: CallBooking | None
    created_at: datetime
    locked_until: datetime | None
    outcome: CallOutcome | None
    note: str | None
    done_at: datetime | None


class OutcomeIn(BaseModel):
    outcome: CallOutcome
    note: str | None = Field(None, max_length=1000)


class SampleReport(BaseModel):
    day: date
    confirmed: int = Field(description="bookings confirmed that day that still stand")
    already_sampled: int
    created: list[int] = Field(description="ids of the call tasks created by this run")


class CallRow(BaseModel):
    """One call in customer service's lists (the console's call desk); names masked."""

    task_id: int
    reason: CallReason
    status: CallStatus
    case_id: int | None
    patient: str = Field(description="the patient's name, masked")
    department: str | None
    session_date: date | None
    created_at: datetime
    locked_until: datetime | None
    agent: str | None = Field(description="username of the agent who holds or made the call")
    outcome: CallOutcome | None
    done_at: datetime | None


class CallDesk(BaseModel):
    mine: list[CallRow] = Field(description="calls the agent holds (live claims)")
    waiting: list[CallRow] = Field(description="the next calls to take, in queue order")
    waiting_total: int
    done: list[CallRow] = Field(description="the latest calls with an outcome")
