"""What a pushed session does to the stored one (``schedules/changes.py``), without a
database: the table the import carries out and the preview shows."""

from __future__ import annotations

from datetime import date, time
from decimal import Decimal
from typing import Any

from fairslot.schedules.changes import StoredSession, decide, withdrawal_of
from fairslot.schedules.formats import SessionSpec
from fairslot.schedules.schemas import Outcome
from fairslot.schedules.states import Period, SessionStatus, SlotState

DAY = date(2026, 12, 1)


def spec(**overrides: Any) -> SessionSpec:
    values: dict[str, Any] = {
        "his_session_id": "S1",
        "department": "GYN",
        "doctor": "DR1",
        "session_date": DAY,
        "period": Period.MORNING,
        "local_start": time(8),
        "local_end": time(12),
        "fee": Decimal("50.00"),
        "capacity": 4,
    }
    return SessionSpec(**{**values, **overrides})


def stored(slots: dict[SlotState, int], **overrides: Any) -> StoredSession:
    values: dict[str, Any] = {
        "status": SessionStatus.ACTIVE,
        "department_id": 1,
        "doctor_id": 1,
        "session_date": DAY,
        "period": Period.MORNING,
        "local_start": time(8),
        "local_end": time(12),
        "fee": Decimal("50.00"),
        "capacity": sum(n for s, n in slots.items() if s != SlotState.WITHDRAWN),
        "slots": slots,
    }
    return StoredSession(**{**values, **overrides})


def test_a_new_session_gets_its_capacity_in_slots() -> None:
    change = decide(spec(capacity=6), stored=None, department_id=1, doctor_id=1)
    assert (change.outcome, change.capacity_after, change.slots_added) == (Outcome.CREATED, 6, 6)


def test_a_new_session_pushed_withdrawn_is_kept_without_slots() -> None:
    change = decide(spec(status=SessionStatus.WITHDRAWN), stored=None, department_id=1, doctor_id=1)
    assert (change.outcome, change.capacity_after, change.slots_added) == (Outcome.WITHDRAWN, 0, 0)


def test_unknown_codes_are_rejected_before_anything_else() -> None:
    no_department = decide(spec(), stored=None, department_id=None, doctor_id=1)
    no_doctor = decide(spec(), stored=None, department_id=1, doctor_id=None)
    assert (no_department.reason or "").startswith("unknown_department")
    assert (no_doctor.reason or "").startswith("unknown_doctor")


def test_the_same_session_pushed_again_is_unchanged() -> None:
    change = decide(spec(), stored=stored({SlotState.OPEN: 4}), department_id=1, doctor_id=1)
    assert change.outcome == Outcome.UNCHANGED and change.capacity_after == 4


def test_lowering_capacity_withdraws_only_free_slots_and_says_how_far_it_got() -> None:
    slots = {SlotState.OPEN: 1, SlotState.COOLING: 1, SlotState.BOOKED: 2, SlotState.HELD: 1}
    change = decide(spec(capacity=1), stored=stored(slots), department_id=1, doctor_id=1)
    assert change.outcome == Outcome.UPDATED
    assert (change.slots_withdrawn, change.capacity_after) == (2, 3)
    assert change.reason == (
        "capacity_partly_lowered: 2 more slot(s) are held, booked or used; capacity is 3, not 1"
    )


def test_raising_capacity_adds_slots_past_the_withdrawn_ones() -> None:
    slots = {SlotState.OPEN: 2, SlotState.WITHDRAWN: 3}
    change = decide(spec(capacity=4), stored=stored(slots), department_id=1, doctor_id=1)
    assert (change.slots_added, change.capacity_before, change.capacity_after) == (2, 2, 4)


def test_a_booked_session_cannot_move_but_its_fee_can_change() -> None:
    slots = {SlotState.OPEN: 3, SlotState.BOOKED: 1}
    moved = decide(spec(local_start=time(9)), stored=stored(slots), department_id=1, doctor_id=1)
    assert moved.outcome == Outcome.REJECTED and (moved.reason or "").startswith("has_bookings")
    fee = decide(spec(fee=Decimal("60")), stored=stored(slots), department_id=1, doctor_id=1)
    assert fee.outcome == Outcome.UPDATED and fee.fee_changed and not fee.moved


def test_a_withdrawal_counts_the_holds_and_bookings_it_ends() -> None:
    slots = {
        SlotState.OPEN: 2,
        SlotState.HELD: 1,
        SlotState.BOOKED: 2,
        SlotState.ATTENDED: 1,
        SlotState.RETIRED: 1,
    }
    change = decide(
        spec(status=SessionStatus.WITHDRAWN), stored=stored(slots), department_id=1, doctor_id=1
    )
    assert change == withdrawal_of("S1", stored(slots))
    assert (change.slots_withdrawn, change.bookings_withdrawn, change.capacity_after) == (6, 3, 1)


def test_a_withdrawn_session_stays_withdrawn() -> None:
    gone = stored({SlotState.WITHDRAWN: 4}, status=SessionStatus.WITHDRAWN, capacity=0)
    again = decide(spec(), stored=gone, department_id=1, doctor_id=1)
    assert again.outcome == Outcome.REJECTED and (again.reason or "").startswith(
        "session_withdrawn"
    )
    same = decide(spec(status=SessionStatus.WITHDRAWN), stored=gone, department_id=1, doctor_id=1)
    assert same.outcome == Outcome.UNCHANGED
