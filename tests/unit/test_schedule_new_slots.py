"""The rows a push writes for new slots and their ledger. No database."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from fairslot.ledger.events import EventKind
from fairslot.schedules.new_slots import PushedSession, Reserving, new_slots, pushed_entries
from fairslot.schedules.states import Period, SlotState

STARTS = datetime(2026, 11, 25, 0, 0, tzinfo=UTC)
SESSION = PushedSession(
    id=7,
    hospital_code="H1",
    his_session_id="S1",
    session_date=date(2026, 11, 25),
    period=Period.MORNING,
    starts_at=STARTS,
    ends_at=STARTS + timedelta(hours=4),
    release_at=datetime(2026, 11, 17, 16, 30, tzinfo=UTC),
    closes_at=STARTS - timedelta(minutes=30),
)


def test_new_slots_are_numbered_spread_over_the_session_and_open() -> None:
    slots = new_slots(SESSION, numbers=range(1, 9), reserving=[], late_reopen_at=None)

    assert [s.number for s in slots] == list(range(1, 9))
    assert [s.ends_at - s.starts_at for s in slots] == [timedelta(minutes=30)] * 8
    assert (slots[0].starts_at, slots[-1].ends_at) == (SESSION.starts_at, SESSION.ends_at)
    assert {(s.state, s.reopen_at, s.release_logged, s.version) for s in slots} == {
        (SlotState.OPEN, None, False, 1)
    }
    assert {s.session_id for s in slots} == {7}
    assert len({s.id for s in slots}) == 8


def test_added_slots_take_the_numbers_asked_for() -> None:
    slots = new_slots(SESSION, numbers=range(11, 14), reserving=[], late_reopen_at=None)

    assert [s.number for s in slots] == [11, 12, 13]


def test_reserved_shares_are_disjoint_and_return_their_minutes_before_the_start() -> None:
    reserving = [
        Reserving(channel_id=1, share=Decimal("0.2"), return_minutes=120),
        Reserving(channel_id=2, share=Decimal("0.1"), return_minutes=60),
    ]

    slots = new_slots(SESSION, numbers=range(1, 21), reserving=reserving, late_reopen_at=None)

    by_channel = {
        channel: [s for s in slots if s.reserved_channel_id == channel] for channel in (1, 2)
    }
    assert (len(by_channel[1]), len(by_channel[2])) == (4, 2)
    assert {s.reserved_until for s in by_channel[1]} == {STARTS - timedelta(minutes=120)}
    assert {s.reserved_until for s in by_channel[2]} == {STARTS - timedelta(minutes=60)}
    free = [s for s in slots if s.reserved_channel_id is None]
    assert len(free) == 14 and {s.reserved_until for s in free} == {None}


def test_late_supply_cools_each_slot_until_its_own_draw() -> None:
    draws = (STARTS - timedelta(hours=h) for h in itertools.count(10))

    slots = new_slots(
        SESSION, numbers=range(1, 4), reserving=[], late_reopen_at=lambda: next(draws)
    )

    assert [s.state for s in slots] == [SlotState.COOLING] * 3
    assert [s.reopen_at for s in slots] == [STARTS - timedelta(hours=h) for h in (10, 11, 12)]
    assert all(s.release_logged for s in slots)


def test_each_slot_gets_a_pushed_row_and_a_late_one_its_cooling_row_right_after() -> None:
    reserving = [Reserving(channel_id=3, share=Decimal("0.5"), return_minutes=60)]
    reopen = STARTS - timedelta(hours=2)
    slots = new_slots(
        SESSION, numbers=range(1, 3), reserving=reserving, late_reopen_at=lambda: reopen
    )

    entries = list(pushed_entries(SESSION, slots=slots))

    assert [(e.slot_id, e.kind) for e in entries] == [
        (slots[0].id, EventKind.PUSHED),
        (slots[0].id, EventKind.COOLING),
        (slots[1].id, EventKind.PUSHED),
        (slots[1].id, EventKind.COOLING),
    ]
    reserved = next(s for s in slots if s.reserved_channel_id == 3)
    pushed = next(e for e in entries if e.slot_id == reserved.id and e.kind == EventKind.PUSHED)
    assert pushed.data == {
        "hospital": "H1",
        "session_id": "S1",
        "number": reserved.number,
        "date": "2026-11-25",
        "period": "am",
        "starts_at": reserved.starts_at.isoformat(),
        "release_at": SESSION.release_at.isoformat(),
        "reserved_channel_id": 3,
    }
    assert entries[1].data == {"reopen_at": reopen.isoformat(), "reason": "late_supply"}


def test_an_open_slot_has_no_cooling_row_and_an_unreserved_one_no_channel() -> None:
    slots = new_slots(SESSION, numbers=range(1, 3), reserving=[], late_reopen_at=None)

    entries = list(pushed_entries(SESSION, slots=slots))

    assert [e.kind for e in entries] == [EventKind.PUSHED] * 2
    assert all("reserved_channel_id" not in e.data for e in entries)
