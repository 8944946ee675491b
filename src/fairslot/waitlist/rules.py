"""Who among the waiting patients is offered a returned slot. Pure: no I/O.

With ``random`` (the default) the order is a shuffle of the entries sorted by id, so the
moment a patient joined — and how fast their client is — buys nothing. ``first_come``
offers the slot to the oldest entry first, as a queue would.
"""

from __future__ import annotations

import enum
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime


class WaitlistOrder(enum.StrEnum):
    RANDOM = "random"
    FIRST_COME = "first_come"


@dataclass(frozen=True)
class Candidate:
    entry_id: str
    joined_at: datetime


def offer_order(
    candidates: Sequence[Candidate], *, order: WaitlistOrder, rng: random.Random
) -> list[str]:
    """The entry ids in the order a returned slot is offered to them.

    Deterministic for a given ``rng`` state and set of candidates, whatever order the
    database returned them in: the shuffle starts from the entries sorted by id.
    """
    if order == WaitlistOrder.FIRST_COME:
        ranked = sorted(candidates, key=lambda c: (c.joined_at, c.entry_id))
        return [c.entry_id for c in ranked]
    ids = sorted(c.entry_id for c in candidates)
    rng.shuffle(ids)
    return ids
