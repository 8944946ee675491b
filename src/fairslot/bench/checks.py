"""Was anything oversold or double-booked? Counted from the stored bookings and,
independently, from the slot ledger. Pure: no I/O (``bench/repository.py`` reads the rows).

* oversold: a slot with more than one occupying booking, or a session with more
  occupying bookings than it has slots;
* double_booked: a patient with two occupying bookings in one department-day, or a
  slot whose ledger shows a second holder before the first one let go.

The database's partial unique indexes should make the first two of each impossible; the
ledger is written by other code than the claim, so it can disagree — which is why it is
read on its own.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from fairslot.ledger.events import EventKind

# Events with which a booking lets go of its slot.
_LETS_GO = frozenset(
    {EventKind.HOLD_EXPIRED, EventKind.HOLD_RELEASED, EventKind.CANCELLED, EventKind.WITHDRAWN}
)


@dataclass(frozen=True)
class Occupying:
    """A booking that occupies its slot (held, booked, checked in or no-show)."""

    booking_id: str
    slot_id: str
    session_id: int
    patient_id: int
    department_id: int
    session_date: date


@dataclass(frozen=True)
class LedgerRow:
    slot_id: str
    kind: EventKind
    booking_id: str | None


@dataclass(frozen=True)
class CheckReport:
    slots_oversold: int
    sessions_oversold: int
    patients_double_booked: int
    ledger_double_holders: int
    # Slots whose ledger ends with another holder than the booking the database shows.
    ledger_disagrees: int

    @property
    def oversold(self) -> int:
        return self.slots_oversold + self.sessions_oversold

    @property
    def double_booked(self) -> int:
        return self.patients_double_booked + self.ledger_double_holders


def check(
    *,
    occupying: Sequence[Occupying],
    slots_per_session: Mapping[int, int],
    ledger: Iterable[LedgerRow],
) -> CheckReport:
    """``ledger``: every event of the slots concerned, in the order they were written."""
    per_slot = Counter(b.slot_id for b in occupying)
    per_session = Counter(b.session_id for b in occupying)
    per_patient_day = Counter((b.patient_id, b.department_id, b.session_date) for b in occupying)
    holders, doubled = ledger_holders(ledger)
    stored = {b.slot_id: b.booking_id for b in occupying}
    return CheckReport(
        slots_oversold=sum(1 for n in per_slot.values() if n > 1),
        sessions_oversold=sum(
            1 for session, n in per_session.items() if n > slots_per_session.get(session, 0)
        ),
        patients_double_booked=sum(1 for n in per_patient_day.values() if n > 1),
        ledger_double_holders=len(doubled),
        ledger_disagrees=sum(
            1 for slot in stored.keys() | holders.keys() if stored.get(slot) != holders.get(slot)
        ),
    )


def ledger_holders(ledger: Iterable[LedgerRow]) -> tuple[dict[str, str], set[str]]:
    """Replay who holds each slot: the final holders, and the slots that at some moment
    had two (a hold while another booking still held it, or a booking confirmed on a
    slot someone else held)."""
    holder: dict[str, str] = {}
    doubled: set[str] = set()
    for row in ledger:
        current = holder.get(row.slot_id)
        if row.kind == EventKind.HELD:
            if current is not None:
                doubled.add(row.slot_id)
            if row.booking_id is not None:
                holder[row.slot_id] = row.booking_id
        elif row.kind == EventKind.BOOKED:
            if current != row.booking_id:
                doubled.add(row.slot_id)
            if row.booking_id is not None:
                holder[row.slot_id] = row.booking_id
        elif row.kind in _LETS_GO and (row.booking_id is None or current == row.booking_id):
            holder.pop(row.slot_id, None)
    return holder, doubled
