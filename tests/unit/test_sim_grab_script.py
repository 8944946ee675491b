"""The grab script queues its losers on the waitlist wherever its clinics take entries
ahead (a draw or a release batch), as their department cards showed — also when it
reached the intent window after it closed and entered nobody (on a slow day it otherwise
asked for nothing at all)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from fairslot.sim.scalpers import _Machine


def script(mode: str) -> _Machine:
    stage: Any = SimpleNamespace(scenario=SimpleNamespace(seed=1))
    machine = _Machine(stage, key="g0", payment={"p1": "card"})
    agent: Any = SimpleNamespace(modes={7: mode}, patients={"p1": 1})
    machine.agents = {"p1": agent}
    machine.targets = {"p1": "EXP"}
    machine.departments = {"EXP": 7}
    return machine


@pytest.mark.parametrize("mode", ["draw", "release_batch"])
def test_a_clinic_taking_entries_ahead_queues_the_losers_though_nobody_was_entered(
    mode: str,
) -> None:
    machine = script(mode)
    assert machine.intents == {}  # the window closed before the script got there
    assert machine.takes_entries()


def test_a_first_come_clinic_takes_no_entries() -> None:
    assert not script("first_come").takes_entries()
