"""The release draw as a pure function. No database, no web: anyone can re-run it.

The algorithm (also in the README, "Fair allocation"), given the revealed ``seed`` (64 hex digits),
the draw's intents and the free slots at draw time:

1. ``ids`` = the intent ids sorted as strings; ``inputs = ",".join(ids)``.
2. ``order`` = ``ids`` shuffled by ``random.Random(int(sha256(seed + "|" + inputs), 16))``
   (Python's Mersenne Twister ``shuffle``, which is stable across Python versions).
3. Walk ``order``; each intent (not refused by a booking rule at draw time) takes the free
   slot with the lowest ``(number, session_id)`` among the sessions it accepts (its one
   session, or every session of its doctor title), skipping slots reserved for another
   channel. A slot is taken once; an intent gets at most one slot.

Nothing about the time or the number of requests enters the draw, so speed buys nothing.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Entry:
    """One intent as the draw sees it: what it accepts and through which channel."""

    intent_id: str
    session_id: int | None = None
    title: str | None = None
    channel_id: int | None = None

    def accepts(self, slot: FreeSlot) -> bool:
        if slot.reserved_for is not None and slot.reserved_for != self.channel_id:
            return False
        if self.session_id is not None:
            return slot.session_id == self.session_id
        return self.title is not None and slot.title == self.title


@dataclass(frozen=True)
class FreeSlot:
    slot_id: str
    session_id: int
    number: int
    title: str
    reserved_for: int | None = None  # a channel's reserved share, still in force


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def commitment(seed: str) -> str:
    """What is published before the window closes: SHA-256 of the seed's text."""
    return sha256_hex(seed)


def inputs_digest(intent_ids: Collection[str]) -> str:
    return sha256_hex(",".join(sorted(intent_ids)))


def order(seed: str, intent_ids: Collection[str]) -> list[str]:
    """The draw order: a shuffle of the sorted ids, seeded by the seed and the inputs."""
    ids = sorted(intent_ids)
    if len(set(ids)) != len(ids):
        raise ValueError("an intent id appears twice: one person, one chance")
    rng = random.Random(int(sha256_hex(seed + "|" + ",".join(ids)), 16))
    rng.shuffle(ids)
    return ids


def pick(entry: Entry, free: Sequence[FreeSlot]) -> FreeSlot | None:
    """The lowest-numbered free slot this intent accepts."""
    options = [slot for slot in free if entry.accepts(slot)]
    return min(options, key=lambda s: (s.number, s.session_id), default=None)


def walk(
    *,
    seed: str,
    entries: Sequence[Entry],
    slots: Sequence[FreeSlot],
    book: Callable[[Entry, FreeSlot], bool],
) -> dict[str, str | None]:
    """Walk the draw order; ``book`` tries to book an intent's pick and says whether it
    held (a booking rule may refuse it at draw time; the slot then stays free for the
    next intent in the order). Returns intent id -> slot id won (None: not won)."""
    by_id = {entry.intent_id: entry for entry in entries}
    if len(by_id) != len(entries):
        raise ValueError("an intent id appears twice: one person, one chance")
    free = list(slots)
    assignment: dict[str, str | None] = {}
    for intent_id in order(seed, by_id):
        entry = by_id[intent_id]
        slot = pick(entry, free)
        won = slot is not None and book(entry, slot)
        assignment[intent_id] = slot.slot_id if won and slot else None
        if won and slot:
            free.remove(slot)
    return assignment


def draw(
    *,
    seed: str,
    entries: Sequence[Entry],
    slots: Sequence[FreeSlot],
    refused: Collection[str] = (),
) -> dict[str, str | None]:
    """Intent id -> the slot id it wins (None: lost or refused), the same walk the
    platform ran; ``refused`` names the intents a booking rule turned down then."""
    refused = frozenset(refused)
    return walk(
        seed=seed, entries=entries, slots=slots, book=lambda e, _: e.intent_id not in refused
    )
