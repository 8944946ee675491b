from datetime import UTC, datetime

import pytest

from fairslot.ledger.events import EventKind as E
from fairslot.ledger.replay import LedgerCorrupt, replay
from fairslot.schedules.states import SlotState

REOPEN = datetime(2026, 11, 22, 3, 0, tzinfo=UTC).isoformat()


def test_a_booked_then_cancelled_slot_replays_to_cooling_with_its_reopen_time():
    result = replay(
        [
            (E.PUSHED, {}),
            (E.RELEASED, {}),
            (E.HELD, {}),
            (E.BOOKED, {}),
            (E.CANCELLED, {}),
            (E.COOLING, {"reopen_at": REOPEN}),
        ]
    )
    assert result.state == SlotState.COOLING
    assert result.reopen_at == datetime.fromisoformat(REOPEN)


def test_a_re_released_slot_replays_to_open_and_can_be_held_again():
    result = replay(
        [
            (E.PUSHED, {}),
            (E.HELD, {}),
            (E.HOLD_RELEASED, {}),
            (E.COOLING, {"reopen_at": REOPEN}),
            (E.RE_RELEASED, {}),
            (E.HELD, {}),
        ]
    )
    assert result.state == SlotState.HELD


def test_attendance_ends_the_slot():
    assert replay([(E.PUSHED, {}), (E.HELD, {}), (E.BOOKED, {}), (E.CHECKED_IN, {})]).state == (
        SlotState.ATTENDED
    )
    assert replay([(E.PUSHED, {}), (E.HELD, {}), (E.BOOKED, {}), (E.NO_SHOW, {})]).state == (
        SlotState.NO_SHOW
    )


def test_an_impossible_history_is_reported_as_corrupt():
    with pytest.raises(LedgerCorrupt):
        replay([(E.PUSHED, {}), (E.BOOKED, {})])  # booked without a hold
    with pytest.raises(LedgerCorrupt):
        replay([(E.HELD, {})])
    with pytest.raises(LedgerCorrupt):
        replay([])
