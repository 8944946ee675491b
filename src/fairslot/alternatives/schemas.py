from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel

from fairslot.hospitals.kinds import DoctorTitle
from fairslot.schedules.states import Period


class AlternativeView(BaseModel):
    """One ranked alternative; times in the session's hospital's zone."""

    rank: int
    tier: int
    reason: str
    reason_zh: str
    session_id: int
    hospital_id: int
    hospital_name: str
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
    free: int
