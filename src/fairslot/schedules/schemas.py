"""What the schedule use cases answer: the import report, the hospital's view of its
sessions, and the result of a withdrawal."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from fairslot.hospitals.schemas import PLAIN_TEXT_PATTERN
from fairslot.schedules.states import Period, SessionStatus
from fairslot.timeofday import LocalTime


class Outcome(enum.StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    WITHDRAWN = "withdrawn"
    REJECTED = "rejected"


class SessionOutcome(BaseModel):
    session_id: str
    outcome: Outcome
    # Slots the session now has (not withdrawn); absent for a rejected new session.
    capacity: int | None = None
    # Why a session was rejected, or why it changed less than asked.
    reason: str | None = None


class UpsertSummary(BaseModel):
    created: int = 0
    updated: int = 0
    unchanged: int = 0


class ImportReport(BaseModel):
    hospital: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    withdrawn: int = 0
    rejected: int = 0
    departments: UpsertSummary = Field(default_factory=UpsertSummary)
    doctors: UpsertSummary = Field(default_factory=UpsertSummary)
    sessions: list[SessionOutcome] = Field(default_factory=list)


class WithdrawRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Annotated[
        str,
        StringConstraints(
            strip_whitespace=True, min_length=1, max_length=200, pattern=PLAIN_TEXT_PATTERN
        ),
    ] = "withdrawn_by_hospital"


class WithdrawalReport(BaseModel):
    session_id: str
    status: SessionStatus
    slots_withdrawn: int
    bookings_withdrawn: int
    already_withdrawn: bool = False


class SessionView(BaseModel):
    """A session as its hospital sees it, released or not. Times are in the hospital's zone."""

    session_id: str  # the hospital's own id (its HIS)
    platform_session_id: int = Field(description="the platform's id, as channels know it")
    department: str
    department_name: str
    doctor: str
    doctor_name: str
    date: date
    period: Period
    start: LocalTime
    end: LocalTime
    fee: Decimal
    capacity: int
    status: SessionStatus
    push_at: datetime
    release_at: datetime
    closes_at: datetime
    released: bool
    slots: dict[str, int]


class SessionPreview(BaseModel):
    """What a push would do to one session (``changes.decide``); nothing is written."""

    session_id: str
    # Where the document gives the session: "line 7" (CSV) or "sessions[3]" (JSON).
    where: str
    outcome: Outcome
    capacity_before: int | None = None
    capacity_after: int | None = None
    slots_added: int = 0
    slots_withdrawn: int = 0
    bookings_withdrawn: int = 0
    moved: bool = False
    fee_changed: bool = False
    reason: str | None = None


class ImportPreview(BaseModel):
    """A push's effect before it is applied: the same counts as :class:`ImportReport`,
    the slots added and withdrawn, and the holds and bookings a withdrawal would end."""

    hospital: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    withdrawn: int = 0
    rejected: int = 0
    slots_added: int = 0
    slots_withdrawn: int = 0
    bookings_withdrawn: int = 0
    departments: UpsertSummary = Field(default_factory=UpsertSummary)
    doctors: UpsertSummary = Field(default_factory=UpsertSummary)
    sessions: list[SessionPreview] = Field(default_factory=list)


class WithdrawalPreview(BaseModel):
    """What withdrawing a session would do, before anyone confirms it."""

    session: SessionView
    slots_withdrawn: int
    # Holds and bookings that would be withdrawn; each patient is told.
    bookings_withdrawn: int
    already_withdrawn: bool
