"""The two platforms the simulator compares: settings of the same platform. Pure: no I/O.

* **protected** — the platform's defaults (clinics without release history judged scarce,
  so batched from their first release): release draws for the expert clinics, random
  re-release of returned slots (10 min – 3 h), the waitlist, rate limits, the blacklist
  gate, and after the day the daily risk batch and the (simulated) review.
* **baseline** — what most systems do: the hospital pushes the expert clinics first-come,
  a cancelled slot is back on sale at once (cooling 0), no waitlist, no rate limits, no
  gate, no batch.

Both run on the accelerated clock. Rate-limit windows are counted by the ``limits``
library on the wall clock, not on the platform's clock, so the simulator restates the
platform's limits in real time (``scale_rate_limits``): a limit of 100 a minute stays 100
per simulated minute at the clock's fastest speed.
"""

from __future__ import annotations

import enum
import json
import math
from collections.abc import Sequence
from datetime import datetime

from limits import parse_many

DEFAULT_RATE_LIMITS = "100/minute"


class Mode(enum.StrEnum):
    PROTECTED = "protected"
    BASELINE = "baseline"


def scarce_allocation(mode: Mode) -> str:
    """How the hospital pushes its expert clinics (a department's ``allocation_mode``)."""
    return "draw" if mode is Mode.PROTECTED else "first_come"


def platform_env(
    mode: Mode,
    *,
    clock_start: datetime,
    clock_anchor: datetime,
    speed: float,
    changes: Sequence[tuple[datetime, float]] = (),
    rate_limits: str = DEFAULT_RATE_LIMITS,
) -> dict[str, str]:
    """The FAIRSLOT_* settings of the platform for ``mode`` on the simulation clock."""
    env = {
        "FAIRSLOT_SIM_CLOCK_START": clock_start.isoformat(),
        "FAIRSLOT_SIM_CLOCK_ANCHOR": clock_anchor.isoformat(),
        "FAIRSLOT_SIM_CLOCK_SPEED": repr(float(speed)),
        "FAIRSLOT_SIM_CLOCK_CHANGES": json.dumps([[at.isoformat(), v] for at, v in changes]),
    }
    if mode is Mode.PROTECTED:
        # Restated at the fastest speed, the limits are never stricter in simulated time
        # than the platform's own (looser while the clock runs slower).
        fastest = max([speed, *(v for _, v in changes)])
        env["FAIRSLOT_RATE_LIMITS"] = scale_rate_limits(rate_limits, speed=fastest)
        # The simulator's clinics have no release history: judged scarce from their first
        # release (the platform's default, allocation/scarcity.py), a first-come clinic is
        # batched from the start. Stated, so the run does not depend on the environment.
        env["FAIRSLOT_SCARCE_WITHOUT_HISTORY"] = "true"
        return env
    return env | {
        "FAIRSLOT_SCARCE_WITHOUT_HISTORY": "false",
        "FAIRSLOT_COOLING_MIN_MINUTES": "0",
        "FAIRSLOT_COOLING_MAX_MINUTES": "0",
        "FAIRSLOT_RATE_LIMIT_ENABLED": "false",
        "FAIRSLOT_GATE_ENABLED": "false",
        "FAIRSLOT_VELOCITY_ENABLED": "false",
        "FAIRSLOT_WAITLIST_ENABLED": "false",
    }


def scale_rate_limits(limits: str, *, speed: float) -> str:
    """``limits`` (e.g. ``"100/minute"``) restated on the wall clock of a platform whose
    clock runs ``speed`` times faster: the same number of requests per simulated window.

    A window shorter than a real second is widened to one second with the count scaled
    up in proportion (``limits`` counts whole seconds).
    """
    if speed <= 0:
        raise ValueError("speed must be positive")
    layers = []
    for item in parse_many(limits):
        window = item.multiples * item.GRANULARITY.seconds / speed
        seconds = max(1, round(window))
        amount = max(1, math.floor(item.amount * seconds / window))
        layers.append(f"{amount} per {seconds} second")
    return ";".join(layers)
