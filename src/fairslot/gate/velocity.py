"""Velocity signals at booking time, and the decision they lead to. Pure: no I/O.

The real-time gate measures a few numbers about an acting request (how many patients
its account bound in the last minutes, how many patients its device booked for this
week, how fast it came after the hold or after the account was opened, whether its
device looked at availability first) and :func:`decide` turns them into **allow**,
**review** or **block**, with the reason codes behind the decision. A review lets the
request through and is recorded for the daily batch; a block refuses it.

A signal that was not measured for this request is ``None`` and plays no part.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Decision(enum.StrEnum):
    ALLOW = "allow"
    REVIEW = "review"
    BLOCK = "block"


class Reason(enum.StrEnum):
    """Reason codes, in the order they are reported."""

    BLACKLISTED = "blacklisted"  # set by the gate itself: an identifier is blocked
    BINDING_BURST = "binding_burst"
    DEVICE_PATIENTS = "device_patients"
    FAST_CONFIRM = "fast_confirm"
    FAST_FIRST_HOLD = "fast_first_hold"
    REPEATED_FAST = "repeated_fast"
    NO_BROWSE = "no_browse"
    SLOWED = "slowed"  # a block answered slowly and let through (``suspect_action=slow``)


# Faster than a person: repeated, they are a script's signature.
FAST_REASONS = frozenset({Reason.FAST_CONFIRM, Reason.FAST_FIRST_HOLD})
_ORDER = {reason: n for n, reason in enumerate(Reason)}


@dataclass(frozen=True)
class Thresholds:
    binding_review_at: int = 3
    binding_block_at: int = 6
    device_review_at: int = 6
    device_block_at: int = 20
    min_confirm_seconds: float = 3
    min_first_hold_seconds: float = 15
    repeat_block_at: int = 3


@dataclass(frozen=True)
class Signals:
    """What was measured about one request."""

    # Patients bound to the request's account within the binding window, this one included.
    bindings: int | None = None
    # Distinct patients booked through the request's device in the device window, the
    # request's own patient included.
    device_patients: int | None = None
    # Seconds from the hold to this confirmation's arrival at the edge (server-side).
    seconds_since_hold: float | None = None
    # Seconds the client's own page says the person spent on the step before this request
    # (``X-Client-Step-Ms``). It can only show a request faster than the server saw it,
    # never slower: a script gains nothing by sending a large number.
    client_step_seconds: float | None = None
    # Seconds from the account's registration to its first hold, intent or waitlist join.
    seconds_since_registration: float | None = None
    # Whether the device asked for availability shortly before this hold.
    browsed: bool | None = None
    # Earlier fast requests by the same account or device within the repeat window.
    earlier_fast: int = 0


@dataclass(frozen=True)
class Verdict:
    decision: Decision
    reasons: tuple[Reason, ...] = ()

    @property
    def codes(self) -> str | None:
        """The reasons as stored: comma-separated codes, or None."""
        return ",".join(r.value for r in self.reasons) or None


ALLOW = Verdict(Decision.ALLOW)


def fast_reasons(signals: Signals, t: Thresholds) -> set[Reason]:
    """The faster-than-a-person signals this request shows (the gate then looks up how
    often its account or device did so recently, and only then)."""
    found: set[Reason] = set()
    pace = confirm_pace(signals)
    if pace is not None and pace < t.min_confirm_seconds:
        found.add(Reason.FAST_CONFIRM)
    if (
        signals.seconds_since_registration is not None
        and signals.seconds_since_registration < t.min_first_hold_seconds
    ):
        found.add(Reason.FAST_FIRST_HOLD)
    return found


def confirm_pace(signals: Signals) -> float | None:
    """The seconds a confirmation took after its hold: the server's spacing (the hold to
    this request's arrival), or the client's own step timing where it is shorter. A loaded
    server stretches the first (the hold's answer was late), never the second; the second
    is the client's word, so it may only make the pace faster. None for another action."""
    if signals.seconds_since_hold is None:
        return None
    if signals.client_step_seconds is None:
        return signals.seconds_since_hold
    return min(signals.seconds_since_hold, signals.client_step_seconds)


def decide(signals: Signals, t: Thresholds) -> Verdict:
    """The decision table.

    ==================  =========================================  ======================
    signal              review                                     block
    ==================  =========================================  ======================
    binding burst       ``bindings >= binding_review_at``           ``>= binding_block_at``
    shared device       ``device_patients >= device_review_at``     ``>= device_block_at``
    faster than human   confirm or first hold under the minimum     the ``repeat_block_at``-th
                                                                    within the repeat window
    no browse           never alone (recorded as a weak reason)
    ==================  =========================================  ======================
    """
    blocks: set[Reason] = set()
    reviews: set[Reason] = set()
    weak: set[Reason] = set()
    for value, review_at, block_at, reason in (
        (signals.bindings, t.binding_review_at, t.binding_block_at, Reason.BINDING_BURST),
        (signals.device_patients, t.device_review_at, t.device_block_at, Reason.DEVICE_PATIENTS),
    ):
        if value is not None and value >= block_at:
            blocks.add(reason)
        elif value is not None and value >= review_at:
            reviews.add(reason)
    fast = fast_reasons(signals, t)
    reviews |= fast
    if fast and signals.earlier_fast + 1 >= t.repeat_block_at:
        blocks.add(Reason.REPEATED_FAST)
    if signals.browsed is False:
        weak.add(Reason.NO_BROWSE)
    reasons = tuple(sorted(blocks | reviews | weak, key=_ORDER.__getitem__))
    if blocks:
        return Verdict(Decision.BLOCK, reasons)
    if reviews:
        return Verdict(Decision.REVIEW, reasons)
    return Verdict(Decision.ALLOW, reasons)


def slowed(verdict: Verdict) -> Verdict:
    """A block let through slowly (``suspect_action=slow``) is recorded as a review."""
    return Verdict(Decision.REVIEW, (*verdict.reasons, Reason.SLOWED))
