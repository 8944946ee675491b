"""What channels send and are shown for intents and draws."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from fairslot.allocation.states import DrawKind, DrawStatus, IntentStatus
from fairslot.bookings.schemas import PaymentAccount, PaymentReference
from fairslot.hospitals.kinds import DoctorTitle

Id = Annotated[int, Field(ge=1, le=2**31 - 1)]


class IntentRequest(BaseModel):
    """An intent for one session, or for any doctor of ``title`` in a department-day."""

    model_config = ConfigDict(extra="forbid")

    account_id: Id
    patient_id: Id
    session_id: Id | None = None
    department_id: Id | None = None
    session_date: date | None = Field(default=None, alias="date")
    title: DoctorTitle | None = None
    payment_account: PaymentAccount  # the same fields as confirm and the waitlist
    payment_reference: PaymentReference

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
    # Held out of the draw for review, or cleared after it: what the patient is told, in
    # Chinese and English. Never what was detected (``reason`` stays empty while held).
    notice_zh: str | None = None
    notice_en: str | None = None


class DrawEntry(BaseModel):
    """One intent as the draw took it: its opaque id and what it accepts, nothing personal."""

    intent_id: str
    session_id: int | None = None
    title: str | None = None  # any doctor of this title that day
    channel_id: int | None = None


class DrawSlot(BaseModel):
    """A free slot the draw handed out (listed by number, then session)."""

    slot_id: str
    session_id: int
    number: int
    title: str
    reserved_for: int | None = None  # a channel's reserved share, still in force


class DrawView(BaseModel):
    """The public face of a draw: enough for anyone to check it, nothing personal.

    After the draw this body alone is what ``fairslot draw verify --from-json`` and the
    re-implementation in ``docs/draw-verification.md`` need."""

    id: int
    department_id: int
    session_date: date
    status: DrawStatus
    # release_batch: the entries are the holds of the window opens_at..due_at
    kind: DrawKind = DrawKind.DRAW
    opens_at: datetime
    due_at: datetime
    seed_commitment: str
    algorithm: str  # the shuffle, fixed with the commitment (shuffle.py)
    intents: int
    seed: str | None = None
    inputs_digest: str | None = None
    intent_ids: list[str] | None = None
    entries: list[DrawEntry] | None = None
    slots: list[DrawSlot] | None = None
    refused: list[str] | None = None  # a booking rule refused them at draw time
    held_out: list[str] | None = None  # kept out of the draw before it, for review
    reasons: dict[str, str] | None = None  # refused or held-out entry -> its reason code
    assignment: dict[str, str | None] | None = None
    recomputed: dict[str, str | None] | None = None
    verified: bool | None = None
