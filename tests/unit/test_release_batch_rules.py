"""The release batch's entry rules (allocation/batch_rules.py), without a database."""

from __future__ import annotations

import datetime as dt

import pytest
from pydantic import ValidationError

from fairslot.allocation import batch_rules
from fairslot.allocation.batch_rules import Arrival, EntryAnswer
from fairslot.allocation.states import IntentStatus
from fairslot.hospitals.schemas import DepartmentIn

RELEASE = dt.datetime(2026, 11, 22, 16, 30, tzinfo=dt.UTC)
SECOND = dt.timedelta(seconds=1)
WINDOW = batch_rules.window(release_at=RELEASE, seconds=60)


def test_every_hold_from_the_release_instant_to_the_window_end_enters_the_batch() -> None:
    assert batch_rules.arrival(now=RELEASE, window=WINDOW, drawn=False) == Arrival.ENTER
    last = RELEASE + 59 * SECOND
    assert batch_rules.arrival(now=last, window=WINDOW, drawn=False) == Arrival.ENTER


def test_a_hold_before_the_release_is_not_an_entry() -> None:
    assert batch_rules.arrival(now=RELEASE - SECOND, window=WINDOW, drawn=False) == Arrival.BEFORE


def test_a_hold_at_the_window_end_waits_for_the_draw_then_claims_first_come() -> None:
    end = RELEASE + 60 * SECOND
    assert batch_rules.arrival(now=end, window=WINDOW, drawn=False) == Arrival.DRAWING
    assert batch_rules.arrival(now=end + SECOND, window=WINDOW, drawn=True) == Arrival.FIRST_COME


def test_the_window_is_the_hospitals_within_bounds_else_the_platforms() -> None:
    assert batch_rules.window_seconds(hospital_seconds=None, platform_default=45) == 45
    assert batch_rules.window_seconds(hospital_seconds=30, platform_default=45) == 30
    assert batch_rules.window_seconds(hospital_seconds=1, platform_default=45) == 10
    assert batch_rules.window_seconds(hospital_seconds=3600, platform_default=45) == 300


def test_a_patients_later_holds_answer_the_first_entry_whatever_became_of_it() -> None:
    assert batch_rules.entry_answer(existing=None) == EntryAnswer.NEW
    for status in IntentStatus:
        assert batch_rules.entry_answer(existing=status) == EntryAnswer.SAME


def test_a_schedule_cannot_set_a_release_batch_the_audited_override_does() -> None:
    spec = {"code": "EXP", "name": "专家门诊", "specialty": "internal"}
    assert DepartmentIn(**spec, allocation_mode="draw").allocation_mode == "draw"
    with pytest.raises(ValidationError, match="choose release_batch with PUT"):
        DepartmentIn(**spec, allocation_mode="release_batch")
