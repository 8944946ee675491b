"""How a department is allocated as its own rows say (``hospitals/allocation_policy.py``):
the rule the channel-facing read and allocation share."""

from __future__ import annotations

from dataclasses import dataclass

from fairslot.allocation import batch_rules, modes, scarcity
from fairslot.allocation.states import AllocationMode
from fairslot.hospitals import allocation_policy as policy
from fairslot.hospitals.models import Department

FC, BATCH, DRAW = AllocationMode.FIRST_COME, AllocationMode.RELEASE_BATCH, AllocationMode.DRAW


@dataclass(frozen=True)
class Rows:
    allocation_mode: AllocationMode
    mode_override: AllocationMode | None = None
    scarce: bool = False


def test_the_hospitals_override_wins_over_its_schedules_mode() -> None:
    assert policy.configured_mode(Rows(allocation_mode=FC)) == FC
    assert policy.configured_mode(Rows(allocation_mode=FC, mode_override=DRAW)) == DRAW


def test_a_scarce_department_configured_first_come_is_a_release_batch() -> None:
    assert policy.effective_mode_of(Rows(allocation_mode=FC, scarce=True)) == BATCH
    assert policy.effective_mode_of(Rows(allocation_mode=DRAW, scarce=True)) == DRAW
    assert policy.effective_mode_of(Rows(allocation_mode=BATCH, mode_override=FC)) == FC
    assert policy.effective_mode_of(Rows(allocation_mode=DRAW, mode_override=FC, scarce=True)) == (
        BATCH
    )


def test_allocation_reads_the_same_rule() -> None:
    for configured in AllocationMode:
        for override in (None, *AllocationMode):
            for scarce in (False, True):
                department = Department(
                    allocation_mode=configured, mode_override=override, scarce=scarce
                )
                rows = Rows(allocation_mode=configured, mode_override=override, scarce=scarce)
                assert modes.configured(department) == policy.configured_mode(rows)
                assert modes.effective(department) == policy.effective_mode_of(rows)
                assert scarcity.effective_mode(
                    configured=modes.configured(department), scarce=scarce
                ) == policy.effective_mode_of(rows)
    assert batch_rules.window_seconds is policy.window_seconds
    assert (batch_rules.MIN_WINDOW_SECONDS, batch_rules.MAX_WINDOW_SECONDS) == (10, 300)
