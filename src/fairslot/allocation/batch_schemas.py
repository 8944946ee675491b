"""What channels and hospitals read of release batches and allocation modes."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from fairslot.allocation.states import AllocationMode, IntentStatus


class BatchEntryView(BaseModel):
    """A hold that entered a release batch (202), or the entry read later."""

    kind: Literal["release_batch_entry"] = "release_batch_entry"
    entry_id: str = Field(description="read the result at GET /v1/batch-entries/{entry_id}")
    batch_id: int = Field(description="the batch's draw id: GET /v1/draws/{id} verifies it")
    status: IntentStatus = Field(
        description="registered until the batch is drawn; then won (a hold on the slot, to "
        "be paid by pay_by), lost (alternatives in the channel's feed) or refused"
    )
    session_id: int | None
    patient_id: int
    entered_at: datetime
    result_at: datetime = Field(description="when the batch is drawn (hospital's zone)")
    seed_commitment: str = Field(description="SHA-256 of the batch's secret seed")
    booking_id: str | None = None
    pay_by: datetime | None = Field(None, description="a won slot's hold expires then")
    reason: str | None = None
    detail: str
    detail_zh: str


class AllocationDecisionView(BaseModel):
    kind: str = Field(description="scarcity_verdict | hospital_override")
    actor: str
    decided_at: datetime
    configured_mode: AllocationMode
    scarce: bool
    effective_mode: AllocationMode
    evidence: dict[str, Any]


class AllocationModeView(BaseModel):
    """How a department's releases are allocated, and why."""

    department_id: int
    schedule_mode: AllocationMode = Field(description="the mode of the hospital's schedule")
    override: AllocationMode | None = Field(description="the hospital's override, if any")
    scarce: bool = Field(
        description="the platform's latest verdict (rule sold-out-fast-v1); a clinic with "
        "under 3 observed release days is scarce by precaution (verdict.precautionary)"
    )
    effective_mode: AllocationMode = Field(
        description="what the platform enforces: a scarce department is never first-come"
    )
    batch_window_seconds: int
    verdict: dict[str, Any] | None = Field(description="the latest verdict and its days")
    decisions: list[AllocationDecisionView]


class AllocationOverrideRequest(BaseModel):
    mode: AllocationMode | None = Field(
        description="draw, release_batch, first_come (refused where the department's own "
        "history shows it sells out at release; where it is scarce only for want of "
        "history, first_come lifts that caution), or null to return to the schedule's "
        "mode and the platform's decision"
    )


class BatchWindowRequest(BaseModel):
    window_seconds: int | None = Field(
        description="seconds after release during which holds enter the batch (10 to 300); "
        "null: the platform's default"
    )


class BatchWindowView(BaseModel):
    window_seconds: int = Field(description="the window now in force for new batches")
    departments: int
