"""Which slots of a session each channel's reserved share keeps back. Pure: no I/O."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from decimal import Decimal

from fairslot.schedules.release import reserved_numbers


def assign_reserved(
    numbers: Sequence[int], *, shares: Sequence[tuple[int, Decimal | float]]
) -> dict[int, int]:
    """Map slot numbers to the channel each is reserved for. Pure.

    Each channel gets ``release.reserved_numbers`` of the slots (spread over the session);
    when two channels want the same one, the later channel gets the next free number
    (searching up, then down), so the sets are disjoint.
    """
    capacity = len(numbers)
    taken: dict[int, int] = {}  # position (1-based) -> channel id
    for channel_id, share in shares:
        for wanted in reserved_numbers(capacity, share):
            position = _nearest_free(wanted, capacity=capacity, taken=taken)
            if position is None:
                break
            taken[position] = channel_id
    return {numbers[position - 1]: channel_id for position, channel_id in taken.items()}


def _nearest_free(wanted: int, *, capacity: int, taken: dict[int, int]) -> int | None:
    upward, downward = range(wanted, capacity + 1), range(wanted - 1, 0, -1)
    return next((p for p in itertools.chain(upward, downward) if p not in taken), None)
