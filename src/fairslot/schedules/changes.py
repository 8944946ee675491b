"""What a pushed session does to the one the platform holds: the one decision table that the
import carries out (``service.py``) and the preview shows (``preview.py``). Pure: no I/O.

The decision reads the session as stored and how many of its slots are in each state; it
says the outcome and how many slots are added or withdrawn and how many holds and
bookings a withdrawal takes away. The import then does exactly that, so what a scheduler
previews is what the push does (unless someone books in between).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, time
from decimal import Decimal

from fairslot.schedules.formats import SessionSpec
from fairslot.schedules.schemas import Outcome
from fairslot.schedules.states import FREE_STATES, Period, SessionStatus, SlotState

# Attended and no-show slots keep their history; everything else can be withdrawn.
WITHDRAWABLE = frozenset(
    {SlotState.OPEN, SlotState.HELD, SlotState.BOOKED, SlotState.COOLING, SlotState.RETIRED}
)
# A patient who holds or booked a slot was told its time window; it never changes.
KEEP_WINDOW = frozenset({SlotState.HELD, SlotState.BOOKED, SlotState.ATTENDED, SlotState.NO_SHOW})
TAKEN = frozenset({SlotState.HELD, SlotState.BOOKED})

HAS_BOOKINGS = "has_bookings: withdraw it and push a new session"
SESSION_WITHDRAWN = (
    "session_withdrawn: a withdrawn session cannot be re-activated; push a new session id"
)


@dataclass(frozen=True)
class StoredSession:
    """A session as the platform holds it, with its slots counted by state."""

    status: SessionStatus
    department_id: int
    doctor_id: int
    session_date: date
    period: Period
    local_start: time
    local_end: time
    fee: Decimal
    capacity: int
    slots: Mapping[SlotState, int] = field(default_factory=dict)

    def count(self, states: frozenset[SlotState]) -> int:
        return sum(n for state, n in self.slots.items() if state in states)


@dataclass(frozen=True)
class SessionChange:
    """What one pushed session does. ``capacity_before`` is None for a new session,
    ``capacity_after`` None for a rejected one."""

    session_id: str
    outcome: Outcome
    capacity_before: int | None = None
    capacity_after: int | None = None
    slots_added: int = 0
    slots_withdrawn: int = 0
    # Holds and bookings withdrawn with their slots (a withdrawal); their patients are told.
    bookings_withdrawn: int = 0
    moved: bool = False
    fee_changed: bool = False
    reason: str | None = None


def decide(
    spec: SessionSpec,
    *,
    stored: StoredSession | None,
    department_id: int | None,
    doctor_id: int | None,
) -> SessionChange:
    """The one table of what a push does to a session (docs/schedule-format.md).

    ``department_id`` / ``doctor_id`` are the hospital's ids for the codes the spec names,
    None when the hospital has no such department or doctor.
    """
    sid = spec.his_session_id
    before = None if stored is None else stored.capacity
    if department_id is None:
        reason = f"unknown_department: no department {spec.department!r} at this hospital"
        return SessionChange(sid, Outcome.REJECTED, before, reason=reason)
    if doctor_id is None:
        reason = f"unknown_doctor: no doctor {spec.doctor!r} at this hospital"
        return SessionChange(sid, Outcome.REJECTED, before, reason=reason)
    if stored is None:
        if spec.status == SessionStatus.WITHDRAWN:
            # Kept with no slots, so that its id can never be activated later.
            return SessionChange(sid, Outcome.WITHDRAWN, None, 0)
        return SessionChange(sid, Outcome.CREATED, None, spec.capacity, slots_added=spec.capacity)
    if stored.status == SessionStatus.WITHDRAWN:
        if spec.status == SessionStatus.WITHDRAWN:
            return SessionChange(sid, Outcome.UNCHANGED, before, before)
        return SessionChange(sid, Outcome.REJECTED, before, reason=SESSION_WITHDRAWN)
    if spec.status == SessionStatus.WITHDRAWN:
        return withdrawal_of(sid, stored)

    moved = (department_id, doctor_id, spec.session_date, spec.period) != (
        stored.department_id,
        stored.doctor_id,
        stored.session_date,
        stored.period,
    ) or (spec.local_start, spec.local_end) != (stored.local_start, stored.local_end)
    fee_changed = Decimal(spec.fee) != Decimal(stored.fee)
    if not (moved or fee_changed or spec.capacity != stored.capacity):
        return SessionChange(sid, Outcome.UNCHANGED, before, before)
    if moved and stored.count(TAKEN):
        return SessionChange(sid, Outcome.REJECTED, before, reason=HAS_BOOKINGS)

    active = sum(n for state, n in stored.slots.items() if state != SlotState.WITHDRAWN)
    added = withdrawn = 0
    note = None
    if spec.capacity > active:
        added = spec.capacity - active
    elif spec.capacity < active:
        # Free slots go, highest numbers first; a held or booked slot is never touched.
        surplus, free = active - spec.capacity, stored.count(FREE_STATES)
        withdrawn = min(surplus, free)
        if free < surplus:
            kept = active - free
            note = (
                f"capacity_partly_lowered: {kept - spec.capacity} more slot(s) are held, "
                f"booked or used; capacity is {kept}, not {spec.capacity}"
            )
    after = active + added - withdrawn
    changed = moved or fee_changed or after != stored.capacity
    return SessionChange(
        sid,
        Outcome.UPDATED if changed else Outcome.UNCHANGED,
        before,
        after,
        slots_added=added,
        slots_withdrawn=withdrawn,
        moved=moved,
        fee_changed=fee_changed,
        reason=note,
    )


def withdrawal_of(session_id: str, stored: StoredSession) -> SessionChange:
    """Withdrawing a session (停诊): every unused slot goes, with its hold or booking."""
    if stored.status == SessionStatus.WITHDRAWN:
        return SessionChange(session_id, Outcome.UNCHANGED, stored.capacity, stored.capacity)
    kept = stored.count(frozenset(SlotState) - WITHDRAWABLE - {SlotState.WITHDRAWN})
    return SessionChange(
        session_id,
        Outcome.WITHDRAWN,
        stored.capacity,
        kept,
        slots_withdrawn=stored.count(WITHDRAWABLE),
        bookings_withdrawn=stored.count(TAKEN),
    )
