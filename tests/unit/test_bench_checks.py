"""Oversold and double-booked, counted from hand-built bookings and ledgers."""

from __future__ import annotations

from datetime import date

from fairslot.bench.checks import LedgerRow, Occupying, check
from fairslot.ledger.events import EventKind

DAY = date(2026, 12, 1)
E = EventKind


def _booking(booking: str, slot: str, *, session: int = 1, patient: int = 1, dept: int = 7):
    return Occupying(booking, slot, session, patient, dept, DAY)


def _ledger(*rows: tuple[str, EventKind, str | None]) -> list[LedgerRow]:
    return [LedgerRow(slot, kind, booking) for slot, kind, booking in rows]


def test_a_sound_pool_has_nothing_oversold_or_double_booked():
    report = check(
        occupying=[_booking("b1", "s1", patient=1), _booking("b2", "s2", patient=2)],
        slots_per_session={1: 2},
        ledger=_ledger(
            ("s1", E.PUSHED, None),
            ("s1", E.RELEASED, None),
            ("s1", E.HELD, "b1"),
            ("s1", E.BOOKED, "b1"),
            ("s2", E.PUSHED, None),
            ("s2", E.HELD, "b2"),
        ),
    )
    assert (report.oversold, report.double_booked, report.ledger_disagrees) == (0, 0, 0)


def test_two_occupying_bookings_on_one_slot_oversell_the_slot_and_its_session():
    report = check(
        occupying=[_booking("b1", "s1", patient=1), _booking("b2", "s1", patient=2)],
        slots_per_session={1: 1},
        ledger=_ledger(("s1", E.HELD, "b1")),
    )
    assert report.slots_oversold == 1
    assert report.sessions_oversold == 1
    assert report.oversold == 2


def test_a_session_with_more_bookings_than_slots_is_oversold_even_on_distinct_slots():
    report = check(
        occupying=[_booking(f"b{n}", f"s{n}", patient=n) for n in range(3)],
        slots_per_session={1: 2},
        ledger=[],
    )
    assert (report.slots_oversold, report.sessions_oversold) == (0, 1)


def test_one_patient_with_two_bookings_in_one_department_day_is_double_booked():
    report = check(
        occupying=[_booking("b1", "s1", patient=5), _booking("b2", "s2", patient=5)],
        slots_per_session={1: 2},
        ledger=_ledger(("s1", E.HELD, "b1"), ("s2", E.HELD, "b2")),
    )
    assert report.patients_double_booked == 1 and report.double_booked == 1
    other_department = check(
        occupying=[_booking("b1", "s1", patient=5), _booking("b2", "s2", patient=5, dept=8)],
        slots_per_session={1: 2},
        ledger=_ledger(("s1", E.HELD, "b1"), ("s2", E.HELD, "b2")),
    )
    assert other_department.double_booked == 0


def test_a_second_hold_before_the_first_let_go_is_a_double_holder_in_the_ledger():
    report = check(
        occupying=[_booking("b2", "s1")],
        slots_per_session={1: 1},
        ledger=_ledger(("s1", E.HELD, "b1"), ("s1", E.HELD, "b2")),
    )
    assert report.ledger_double_holders == 1
    assert report.double_booked == 1


def test_a_hold_after_the_first_one_lapsed_or_was_cancelled_is_no_double_holder():
    report = check(
        occupying=[_booking("b3", "s1")],
        slots_per_session={1: 1},
        ledger=_ledger(
            ("s1", E.HELD, "b1"),
            ("s1", E.HOLD_EXPIRED, "b1"),
            ("s1", E.COOLING, "b1"),
            ("s1", E.RE_RELEASED, None),
            ("s1", E.HELD, "b2"),
            ("s1", E.BOOKED, "b2"),
            ("s1", E.CANCELLED, "b2"),
            ("s1", E.COOLING, None),
            ("s1", E.HELD, "b3"),
        ),
    )
    assert report.double_booked == 0 and report.ledger_disagrees == 0


def test_a_booking_confirmed_on_a_slot_held_by_someone_else_is_a_double_holder():
    report = check(
        occupying=[_booking("b1", "s1")],
        slots_per_session={1: 1},
        ledger=_ledger(("s1", E.HELD, "b1"), ("s1", E.BOOKED, "b2")),
    )
    assert report.ledger_double_holders == 1


def test_a_booking_missing_from_the_ledger_shows_as_a_disagreement():
    report = check(
        occupying=[_booking("b1", "s1"), _booking("b2", "s2", patient=2)],
        slots_per_session={1: 2},
        ledger=_ledger(("s1", E.HELD, "b1")),
    )
    assert report.ledger_disagrees == 1
    assert report.double_booked == 0
