"""Request and response shapes of the review queue API (``/staff/v1/cases``).

Times are in the hospital's zone. No view carries a full resident ID or phone number:
patients appear with their name and masked ID (``110***********002X``), identifiers a
reviewer may block with a masked label and the key the blacklist stores.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field

from fairslot.cases.states import CaseEventKind, CaseStatus


class CaseSummary(BaseModel):
    case_id: int
    subject_kind: str = Field(
        description="patient, account, payment_account, device, network, phone, or ring"
    )
    subject_label: str
    status: CaseStatus
    score: float
    version: int
    evidence_version: int = Field(
        description="moves on whenever alerts are added to the open case; a confirmation "
        "or dismissal names the one it was decided on"
    )
    opened_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    assigned_to: str | None = Field(description="the reviewer holding or who decided it")
    locked_until: datetime | None
    decision_reason: str | None


class CaseList(BaseModel):
    cases: list[CaseSummary]


class AlertView(BaseModel):
    alert_id: int
    run_date: date
    rule: str
    entity_kind: str
    entity_label: str
    score: float
    explanation: str
    details: dict[str, Any]
    booking_ids: list[str]
    event_ids: list[int]
    ring_id: str | None


class PatientLabel(BaseModel):
    patient_id: int
    name: str
    id_masked: str = Field(description="e.g. 110***********002X; never the full number")
    phone_masked: str


class BookingEvidence(BaseModel):
    booking_id: str
    status: str
    department_id: int
    department: str
    doctor: str
    doctor_title: str
    session_date: date
    period: str
    channel: str
    channel_kind: str
    device_key: str | None
    ip_key: str | None
    ip_label: str | None = Field(default=None, description="masked: 203.0.113.x")
    wifi_key: str | None
    payment_account: str | None = Field(description="masked")
    patient: PatientLabel
    account_id: int
    held_at: datetime
    booked_at: datetime | None
    ended_at: datetime | None


class SlotEventView(BaseModel):
    event_id: int
    slot_id: str
    kind: str
    at: datetime
    booking_id: str | None
    account_id: int | None
    channel_id: int | None
    device_key: str | None
    ip_key: str | None
    ip_label: str | None = Field(default=None, description="masked: 203.0.113.x")
    wifi_key: str | None


class CaseEventView(BaseModel):
    event_id: int
    kind: CaseEventKind
    at: datetime
    actor: str
    data: dict[str, Any]


class CallSummary(BaseModel):
    task_id: int
    patient_id: int
    patient_name: str
    booking_id: str | None
    status: str
    question: str | None
    outcome: str | None
    note: str | None
    done_at: datetime | None


class CandidateView(BaseModel):
    scope: str
    key: str = Field(description="the key the blacklist stores (a keyed hash for personal data)")
    label: str = Field(description="masked")
    sources: list[str]
    blocked: bool = Field(description="an entry is in force for this key now")
    entry_id: int | None = Field(description="the unlifted blacklist entry for this key")
    blocked_until: datetime | None = Field(description="None with an entry: permanent")
    others: int | None = Field(
        default=None,
        description="patients outside the case that blocking this would also stop "
        "(None: not known)",
    )
    shared: str | None = Field(
        default=None,
        description="why a confirmation never blocks it outright: shared_address (a network "
        "many strangers use) or shared_identifier; None: blockable",
    )


class CaseEvidence(BaseModel):
    case: CaseSummary
    alerts: list[AlertView]
    bookings: list[BookingEvidence]
    slot_events: list[SlotEventView]
    history: list[CaseEventView]
    calls: list[CallSummary]
    candidates: list[CandidateView]


class ConfirmIn(BaseModel):
    scopes: list[str] = Field(
        max_length=6, description="patient, phone, account, device, network, payment"
    )
    days: int | None = Field(None, description="how long the blocks last; null: permanent")
    reason: str = Field(max_length=1000)
    evidence_version: int = Field(
        ge=1,
        le=2**31 - 1,
        description="the case's evidence_version as read before deciding; if alerts were "
        "added since, the decision is refused (409 case_evidence_changed)",
    )


class DismissIn(BaseModel):
    reason: str = Field(max_length=1000)
    evidence_version: int = Field(
        ge=1,
        le=2**31 - 1,
        description="the case's evidence_version as read before deciding; if alerts were "
        "added since, the decision is refused (409 case_evidence_changed)",
    )


class CallsIn(BaseModel):
    question: str = Field(max_length=500, description="what customer service should ask")


class BlockView(BaseModel):
    scope: str
    label: str
    entry_id: int
    expires_at: datetime | None


class ConfirmOut(BaseModel):
    case: CaseSummary
    blocked: list[BlockView]
    already_blocked: list[BlockView] = Field(
        description="identifiers of the chosen scopes that an unlifted entry already lists"
    )
    bookings_withdrawn: int = Field(
        0, description="upcoming held or confirmed bookings withdrawn; their slots cool"
    )
    waitlist_closed: int = Field(0, description="waitlist entries closed")
    intents_refused: int = Field(0, description="pending draw intents refused")


class CallsOut(BaseModel):
    case: CaseSummary
    tasks: list[int] = Field(description="the call tasks created")
