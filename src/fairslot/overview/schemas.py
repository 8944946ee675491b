"""What the overview hands to its readers: frozen values, times in UTC (each hospital's
lines carry its zone for display)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime


@dataclass(frozen=True)
class ReleaseLine:
    """Sessions of one date released at one instant of the hospital's day."""

    release_at: datetime
    session_date: date
    sessions: int


@dataclass(frozen=True)
class NextRelease:
    """The hospital's next regular release (from its policy) and what is pushed for it."""

    release_at: datetime
    session_date: date
    days_ahead: int
    sessions_pushed: int


@dataclass(frozen=True)
class DrawLine:
    draw_id: int
    department_id: int
    department_name: str
    session_date: date
    status: str  # "pending" | "overdue" | "run"
    due_at: datetime
    drawn_at: datetime | None
    intents: int
    verified: bool | None  # None until the draw has run


@dataclass(frozen=True)
class FillLine:
    """Scarce supply of one department over its released, not yet ended sessions: every
    session of a draw-mode department, or the sessions of a first-come one that sold out."""

    department_id: int
    department_name: str
    draw_mode: bool
    sessions: int
    sold_out: int
    booked: int  # booked, attended or no-show
    held: int
    total: int  # every slot the hospital has not withdrawn


@dataclass(frozen=True)
class HospitalDay:
    hospital_id: int
    code: str
    name: str
    zone: str
    today: date
    released: list[ReleaseLine]
    next_release: NextRelease
    draws: list[DrawLine]
    fill: list[FillLine]

    @property
    def sessions_released(self) -> int:
        return sum(line.sessions for line in self.released)

    def draws_in(self, status: str) -> int:
        return sum(1 for d in self.draws if d.status == status)

    @property
    def draws_mismatched(self) -> int:
        return sum(1 for d in self.draws if d.verified is False)

    @property
    def scarce_booked(self) -> int:
        return sum(line.booked for line in self.fill)

    @property
    def scarce_total(self) -> int:
        return sum(line.total for line in self.fill)

    @property
    def sold_out(self) -> int:
        return sum(line.sold_out for line in self.fill)


@dataclass(frozen=True)
class Queues:
    cases_open: int
    cases_in_review: int
    cases_awaiting_call: int
    calls_pending: int
    calls_taken: int

    @property
    def cases(self) -> int:
        return self.cases_open + self.cases_in_review + self.cases_awaiting_call

    @property
    def calls(self) -> int:
        return self.calls_pending + self.calls_taken


@dataclass(frozen=True)
class BatchDay:
    """The daily batch of one local date (yesterday's, on the Today page)."""

    day: date
    ran: bool
    finished: bool
    finished_at: datetime | None
    alerts: int
    rings_flagged: int
    cases_opened: int
    bookings_seen: int


@dataclass(frozen=True)
class Today:
    now: datetime
    zone: str  # the platform's zone: the batch's days and the queues
    hospitals: list[HospitalDay]
    queues: Queues
    batch: BatchDay
