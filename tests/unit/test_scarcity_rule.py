"""The scarcity rule (allocation/scarcity.py) and the effective mode, without a database."""

from __future__ import annotations

import datetime as dt

from fairslot.allocation.scarcity import (
    ReleaseDay,
    ScarcityRule,
    effective_mode,
    judge,
    sold_out_at_release,
)
from fairslot.allocation.states import AllocationMode
from fairslot.config import Settings

RULE = ScarcityRule()
FC = AllocationMode.FIRST_COME
DAY0 = dt.date(2026, 11, 1)


def first_come(day: int, seconds: float | None, slots: int = 10) -> ReleaseDay:
    return ReleaseDay(
        session_date=DAY0 + dt.timedelta(days=day),
        mode=FC,
        slots=slots,
        fastest_sellout_seconds=seconds,
    )


def drawn(day: int, entrants: int, slots: int, mode: AllocationMode) -> ReleaseDay:
    return ReleaseDay(
        session_date=DAY0 + dt.timedelta(days=day),
        mode=mode,
        slots=slots,
        entrants=entrants,
        drawn_slots=slots,
    )


def test_a_clinic_that_sold_out_in_seconds_on_most_recent_days_is_scarce() -> None:
    days = [first_come(d, 4.0) for d in range(4)] + [first_come(d, None) for d in range(4, 7)]
    verdict = judge(days, rule=RULE)
    assert verdict.scarce
    assert (verdict.observed_days, verdict.sold_out_days) == (7, 4)
    assert "4 of the last 7" in verdict.summary


def test_half_the_days_selling_out_is_not_most_days() -> None:
    days = [first_come(d, 4.0) for d in range(3)] + [first_come(d, None) for d in range(3, 6)]
    assert not judge(days, rule=RULE).scarce


def test_a_sell_out_slower_than_the_threshold_does_not_count() -> None:
    days = [first_come(d, RULE.within_seconds + 1.0) for d in range(7)]
    verdict = judge(days, rule=RULE)
    assert not verdict.scarce and verdict.sold_out_days == 0
    on_the_line = sold_out_at_release(first_come(0, float(RULE.within_seconds)), rule=RULE)
    assert on_the_line.sold_out_at_release


def test_too_little_history_gives_no_verdict_of_scarcity() -> None:
    days = [first_come(d, 1.0) for d in range(RULE.min_days - 1)]
    assert not judge(days, rule=RULE).scarce
    days.append(first_come(RULE.min_days, 1.0))
    assert judge(days, rule=RULE).scarce


def test_only_the_most_recent_release_days_are_read() -> None:
    old_hot = [first_come(d, 1.0) for d in range(10)]
    recent_calm = [first_come(d, None) for d in range(10, 10 + RULE.recent_days)]
    verdict = judge(old_hot + recent_calm, rule=RULE)
    assert not verdict.scarce and verdict.observed_days == RULE.recent_days
    assert verdict.days[0].session_date == DAY0 + dt.timedelta(days=16)  # newest first


def test_days_without_released_slots_are_not_release_days() -> None:
    days = [first_come(d, 1.0) for d in range(4)] + [first_come(d, None, 0) for d in range(4, 9)]
    verdict = judge(days, rule=RULE)
    assert verdict.scarce and verdict.observed_days == 4


def test_a_protected_clinic_stays_scarce_while_demand_meets_its_supply() -> None:
    """A batch or draw day is judged by entrants against slots, not by how fast it sold
    (its winners are booked at the window's end): protection does not undo itself."""
    days = [drawn(d, 40, 10, AllocationMode.RELEASE_BATCH) for d in range(4)]
    days += [drawn(d, 12, 10, AllocationMode.DRAW) for d in range(4, 7)]
    assert judge(days, rule=RULE).scarce
    calm = [drawn(d, 3, 10, AllocationMode.RELEASE_BATCH) for d in range(7)]
    assert not judge(calm, rule=RULE).scarce


def test_a_scarce_first_come_clinic_is_allocated_by_a_release_batch() -> None:
    assert effective_mode(configured=FC, scarce=True) == AllocationMode.RELEASE_BATCH
    assert effective_mode(configured=FC, scarce=False) == FC


def test_a_hospital_may_choose_a_draw_or_a_batch_whatever_the_verdict() -> None:
    for scarce in (True, False):
        for mode in (AllocationMode.DRAW, AllocationMode.RELEASE_BATCH):
            assert effective_mode(configured=mode, scarce=scarce) == mode


def test_the_evidence_names_every_day_read_and_why() -> None:
    verdict = judge([first_come(0, 3.0), first_come(1, None), first_come(2, 90.0)], rule=RULE)
    evidence = verdict.as_evidence()
    assert evidence["rule"] == "sold-out-fast-v1"
    assert [d["why"] for d in evidence["days"]] == [  # type: ignore[index]
        "fastest sell-out took 90 s",
        "no session sold out",
        "a session sold out in 3 s",
    ]
    assert "紧俏" in verdict.summary_zh


def test_a_clinic_without_history_is_batched_where_the_platform_chooses_caution() -> None:
    cautious = ScarcityRule(unknown_is_scarce=True)
    verdict = judge([first_come(0, None)], rule=cautious)
    assert verdict.scarce and "only 1 release days observed, 3 needed" in verdict.summary
    calm = [first_come(d, None) for d in range(cautious.min_days)]
    assert not judge(calm, rule=cautious).scarce  # history now speaks for itself


def test_scarce_for_want_of_history_is_a_precaution_the_hospital_may_lift() -> None:
    cautious = ScarcityRule(unknown_is_scarce=True)
    unknown = judge([first_come(0, None)], rule=cautious)
    assert unknown.precautionary and unknown.as_evidence()["precautionary"] is True
    assert "treated as scarce until they are" in unknown.summary
    assert "记录足够前按紧俏处理" in unknown.summary_zh
    # Scarce from its own history: no precaution, nothing for the hospital to lift.
    hot = judge([first_come(d, 2.0) for d in range(cautious.min_days)], rule=cautious)
    assert hot.scarce and not hot.precautionary
    assert hot.as_evidence()["precautionary"] is False
    # Not scarce is never precautionary, with or without history.
    assert not judge([first_come(0, None)], rule=RULE).precautionary


def test_the_platform_is_cautious_about_a_clinic_without_history_by_default() -> None:
    assert Settings.model_fields["scarce_without_history"].default is True
