"""What the patient pages show of an account's draw entries and waitlist places."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from fairslot.allocation.states import AllocationMode, DrawKind, DrawStatus, IntentStatus
from fairslot.hospitals.kinds import DoctorTitle
from fairslot.schedules.states import Period
from fairslot.waitlist.models import WaitStatus


@dataclass(frozen=True)
class SessionCard:
    """A session as a patient reads it, released or not (never its slots)."""

    session_id: int
    hospital_id: int
    hospital_name: str
    department_id: int
    department_name: str
    allocation_mode: AllocationMode
    doctor_name: str
    doctor_title: DoctorTitle
    session_date: date
    period: Period
    starts_at: datetime  # UTC
    release_at: datetime  # UTC
    closes_at: datetime  # UTC
    fee: Decimal
    capacity: int
    zone: str
    active: bool


@dataclass(frozen=True)
class DrawEntryRow:
    """An intent of one of the account's patients, with its draw."""

    intent_id: str
    draw_id: int
    kind: DrawKind  # a draw (intent before release) or a release batch (a hold at release)
    status: IntentStatus
    patient_id: int
    session: SessionCard | None  # None: any doctor of a title that day
    title: DoctorTitle | None
    department_name: str
    hospital_name: str
    session_date: date
    draw_status: DrawStatus
    due_at: datetime  # UTC: the release, when the draw runs
    seed_commitment: str
    booking_id: str | None
    reason: str | None
    payment_account_masked: str
    created_at: datetime
    zone: str


@dataclass(frozen=True)
class WaitRow:
    """A waitlist place of one of the account's patients."""

    waitlist_id: str
    status: WaitStatus
    patient_id: int
    session: SessionCard
    booking_id: str | None
    payment_account_masked: str
    created_at: datetime
    decided_at: datetime | None
