"""The real-time gate's decision table: signal values in, allow / review / block out."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fairslot.gate.velocity import (
    Decision,
    Reason,
    Signals,
    Thresholds,
    Verdict,
    confirm_pace,
    decide,
    fast_reasons,
    slowed,
)

T = Thresholds(
    binding_review_at=3,
    binding_block_at=6,
    device_review_at=6,
    device_block_at=20,
    min_confirm_seconds=3,
    min_first_hold_seconds=15,
    repeat_block_at=3,
)


def test_a_request_with_nothing_measured_is_allowed_without_reasons() -> None:
    assert decide(Signals(), T) == Verdict(Decision.ALLOW, ())
    assert decide(Signals(), T).codes is None


@pytest.mark.parametrize(
    ("signals", "decision", "reasons"),
    [
        (Signals(bindings=2), Decision.ALLOW, ()),
        (Signals(bindings=3), Decision.REVIEW, (Reason.BINDING_BURST,)),
        (Signals(bindings=5), Decision.REVIEW, (Reason.BINDING_BURST,)),
        (Signals(bindings=6), Decision.BLOCK, (Reason.BINDING_BURST,)),
        (Signals(device_patients=5), Decision.ALLOW, ()),
        (Signals(device_patients=6), Decision.REVIEW, (Reason.DEVICE_PATIENTS,)),
        (Signals(device_patients=19), Decision.REVIEW, (Reason.DEVICE_PATIENTS,)),
        (Signals(device_patients=20), Decision.BLOCK, (Reason.DEVICE_PATIENTS,)),
        (Signals(seconds_since_hold=2.9), Decision.REVIEW, (Reason.FAST_CONFIRM,)),
        (Signals(seconds_since_hold=3), Decision.ALLOW, ()),
        (Signals(seconds_since_registration=14), Decision.REVIEW, (Reason.FAST_FIRST_HOLD,)),
        (Signals(seconds_since_registration=15), Decision.ALLOW, ()),
        (Signals(browsed=True), Decision.ALLOW, ()),
        (Signals(browsed=False), Decision.ALLOW, (Reason.NO_BROWSE,)),
    ],
)
def test_each_signal_alone_follows_its_thresholds(
    signals: Signals, decision: Decision, reasons: tuple[Reason, ...]
) -> None:
    assert decide(signals, T) == Verdict(decision, reasons)


def test_a_fast_request_is_blocked_when_its_account_or_device_was_fast_twice_already() -> None:
    once = decide(Signals(seconds_since_hold=0.5, earlier_fast=1), T)
    third = decide(Signals(seconds_since_hold=0.5, earlier_fast=2), T)
    assert once.decision is Decision.REVIEW
    assert third == Verdict(Decision.BLOCK, (Reason.FAST_CONFIRM, Reason.REPEATED_FAST))


def test_earlier_fast_requests_do_not_block_a_request_that_is_not_fast_itself() -> None:
    assert decide(Signals(seconds_since_hold=30, earlier_fast=9), T).decision is Decision.ALLOW


def test_no_browse_is_weak_it_never_reviews_alone_but_rides_along_with_a_review() -> None:
    verdict = decide(Signals(browsed=False, seconds_since_registration=1), T)
    assert verdict == Verdict(Decision.REVIEW, (Reason.FAST_FIRST_HOLD, Reason.NO_BROWSE))
    assert verdict.codes == "fast_first_hold,no_browse"


def test_a_block_on_one_signal_wins_and_every_reason_is_reported_in_a_fixed_order() -> None:
    verdict = decide(Signals(bindings=7, device_patients=8, seconds_since_hold=1, browsed=False), T)
    assert verdict.decision is Decision.BLOCK
    assert verdict.reasons == (
        Reason.BINDING_BURST,
        Reason.DEVICE_PATIENTS,
        Reason.FAST_CONFIRM,
        Reason.NO_BROWSE,
    )


def test_a_zero_minimum_turns_a_speed_signal_off() -> None:
    off = Thresholds(min_confirm_seconds=0, min_first_hold_seconds=0)
    assert fast_reasons(Signals(seconds_since_hold=0, seconds_since_registration=0), off) == set()


def test_a_slowed_block_is_recorded_as_a_review_that_says_it_was_slowed() -> None:
    blocked = decide(Signals(bindings=9), T)
    assert slowed(blocked) == Verdict(Decision.REVIEW, (Reason.BINDING_BURST, Reason.SLOWED))


_LEVEL = {Decision.ALLOW: 0, Decision.REVIEW: 1, Decision.BLOCK: 2}


@given(
    bindings=st.integers(0, 30),
    device=st.integers(0, 40),
    hold=st.floats(0, 60),
    earlier=st.integers(0, 5),
    more=st.integers(1, 10),
)
def test_more_of_any_signal_never_softens_the_decision(
    bindings: int, device: int, hold: float, earlier: int, more: int
) -> None:
    base = Signals(
        bindings=bindings, device_patients=device, seconds_since_hold=hold, earlier_fast=earlier
    )
    worse = [
        Signals(
            bindings=bindings + more,
            device_patients=device,
            seconds_since_hold=hold,
            earlier_fast=earlier,
        ),
        Signals(
            bindings=bindings,
            device_patients=device + more,
            seconds_since_hold=hold,
            earlier_fast=earlier,
        ),
        Signals(
            bindings=bindings,
            device_patients=device,
            seconds_since_hold=max(0.0, hold - more),
            earlier_fast=earlier + more,
        ),
    ]
    level = _LEVEL[decide(base, T).decision]
    assert all(_LEVEL[decide(s, T).decision] >= level for s in worse)


def test_the_clients_own_step_timing_can_show_a_confirmation_faster_than_the_server_saw() -> None:
    # the server saw 8 s (its answer to the hold was late); the page says 0.4 s
    signals = Signals(seconds_since_hold=8.0, client_step_seconds=0.4)
    assert confirm_pace(signals) == 0.4
    assert decide(signals, T).reasons == (Reason.FAST_CONFIRM,)


def test_a_client_claiming_a_slow_step_cannot_hide_a_fast_arrival() -> None:
    signals = Signals(seconds_since_hold=0.5, client_step_seconds=30.0)
    assert confirm_pace(signals) == 0.5
    assert decide(signals, T).decision is Decision.REVIEW


def test_step_timing_alone_without_a_hold_measures_nothing() -> None:
    assert confirm_pace(Signals(client_step_seconds=0.1)) is None
    assert decide(Signals(client_step_seconds=0.1), T) == Verdict(Decision.ALLOW, ())
