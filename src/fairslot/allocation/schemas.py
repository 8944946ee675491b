"""What channels send and are shown for intents and draws."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from fairslot.allocation.states import DrawStatus, IntentStatus
from fairslot.hospitals.kinds import DoctorTitle

Id = Annotated[int, Field(ge=1, le=2**31 - 1)]
# Printable only: payment fields end up in ledger rows and hospital feeds.
Printable = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=64, pattern=r"^[ -~]+$"),
]


class IntentRequest(BaseModel):
    """An intent for one session, or for any doctor of ``title`` in a department-day."""

    model_config = ConfigDict(extra="forbid")

    account_id: Id
    patient_id: Id
    session_id: Id | None = None
    department_id: Id | None = None
    session_date: date | None = Field(default=None, alias="date")
    title: DoctorTitle | None = None
    payment_account: Printable
    payment_reference: Printable

    @model_validator(mode="after")
    def _one_target(self) -> Self:
        by_title = (self.department_id, self.session_date, self.title)
        if self.session_id is None and None in by_title:
            raise ValueError("give session_id, or department_id, date and title")
        if self.session_id is not None and any(v is not None for v in by_title):
            raise ValueError("give session_id or department_id/date/title, not both")
        return self


class IntentView(BaseModel):
    id: str
    draw_id: int
    patient_id: int
    account_id: int
    session_id: int | None
    title: DoctorTitle | None
    status: IntentStatus
    booking_id: str | None
    reason: str | None
    payment_account_masked: str
    created_at: datetime
    decided_at: datetime | None
    draw_due_at: datetime
    seed_commitment: str


class DrawView(BaseModel):
    """The public face of a draw: enough for anyone to check it, nothing personal."""

    id: int
    department_id: int
    session_date: date
    status: DrawStatus
    opens_at: datetime
    due_at: datetime
    seed_commitment: str
    intents: int
    seed: str | None = None
    inputs_digest: str | None = None
    intent_ids: list[str] | None = None
    entries: list[dict[str, Any]] | None = None
    slots: list[dict[str, Any]] | None = None
    refused: list[str] | None = None
    assignment: dict[str, str | None] | None = None
    recomputed: dict[str, str | None] | None = None
    verified: bool | None = None
