"""How a department's releases are allocated, as far as the hospital's own rows say it.
Pure: no I/O.

* ``configured_mode``: the hospital's override if it set one, else its schedule's mode.
* ``effective_mode``: the configured mode, raised to a release batch where it is
  first-come and the platform judged the department scarce (the verdict itself is
  ``allocation/scarcity.py``'s; its result is the department's ``scarce`` column).
* ``window_seconds``: the release batch's window, the hospital's within the bounds.

They sit here, below the channel-facing read (``availability``), because the catalog
and the availability listing show the mode and the batch's end to channels;
``allocation/modes.py`` and ``allocation/batch_rules.py`` call the same functions, so
the gate, the catalog and the hold path read one value.
"""

from __future__ import annotations

from typing import Protocol

from fairslot.allocation.states import AllocationMode

MIN_WINDOW_SECONDS = 10
DEFAULT_WINDOW_SECONDS = 60  # the platform's, where settings give none (config.py)
MAX_WINDOW_SECONDS = 300


class DepartmentModes(Protocol):
    """What the rule reads of a department (``hospitals.models.Department``)."""

    @property
    def allocation_mode(self) -> AllocationMode: ...

    @property
    def mode_override(self) -> AllocationMode | None: ...

    @property
    def scarce(self) -> bool: ...


def configured_mode(department: DepartmentModes) -> AllocationMode:
    return department.mode_override or department.allocation_mode


def effective_mode(*, configured: AllocationMode, scarce: bool) -> AllocationMode:
    """What the platform enforces. A hospital may choose a draw or a release batch for
    any clinic; it may choose first-come only where the clinic is not scarce: a scarce
    clinic configured first-come still allocates its release minute by a batch."""
    if configured == AllocationMode.FIRST_COME and scarce:
        return AllocationMode.RELEASE_BATCH
    return configured


def effective_mode_of(department: DepartmentModes) -> AllocationMode:
    return effective_mode(configured=configured_mode(department), scarce=department.scarce)


def window_seconds(*, hospital_seconds: int | None, platform_default: int) -> int:
    """The hospital's window, else the platform's, kept within the bounds: shorter and
    the release minute's rush is still a race; longer and patients wait for nothing."""
    chosen = hospital_seconds if hospital_seconds is not None else platform_default
    return max(MIN_WINDOW_SECONDS, min(MAX_WINDOW_SECONDS, chosen))
