"""The release draw as a pure function. No database, no web: anyone can re-run it.

The algorithm (specified to the byte in ``docs/draw-verification.md``), given the revealed
``seed``, the draw's entries (one per intent, by its opaque id) and the free slots at draw
time:

1. ``order`` = the entry ids shuffled by the draw's algorithm (``shuffle.py``; new draws:
   Fisher-Yates driven by SHA-256 of the seed, the inputs digest and a counter).
2. Walk ``order``; each entry not held out before the draw nor refused by a booking rule at
   draw time takes the free slot with the lowest ``(number, session_id)`` among the sessions
   it accepts (its one session, or every session of its doctor title), skipping slots
   reserved for another channel. A slot is taken once; an entry gets at most one slot.

Nothing about the time or the number of requests enters the draw, so speed buys nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fairslot.allocation import shuffle


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
    return shuffle.inputs_digest(intent_ids)


def order(seed: str, intent_ids: Collection[str], *, algorithm: str) -> list[str]:
    """The draw order: the sorted ids shuffled by ``algorithm``, seeded by the seed and
    the inputs (``shuffle.py``)."""
    return shuffle.order(seed, intent_ids, algorithm=algorithm)


def pick(entry: Entry, free: Sequence[FreeSlot]) -> FreeSlot | None:
    """The lowest-numbered free slot this intent accepts."""
    options = [slot for slot in free if entry.accepts(slot)]
    return min(options, key=lambda s: (s.number, s.session_id), default=None)


def walk(
    *,
    seed: str,
    algorithm: str,
    entries: Sequence[Entry],
    slots: Sequence[FreeSlot],
    book: Callable[[Entry, FreeSlot], bool],
    held_out: Collection[str] = (),
) -> dict[str, str | None]:
    """Walk the draw order; ``book`` tries to book an intent's pick and says whether it
    held (a booking rule may refuse it at draw time; the slot then stays free for the
    next intent in the order). A held-out entry keeps its place in the order but is
    offered nothing. Returns intent id -> slot id won (None: not won)."""
    by_id = {entry.intent_id: entry for entry in entries}
    if len(by_id) != len(entries):
        raise ValueError("an intent id appears twice: one person, one chance")
    held_out = frozenset(held_out)
    free = list(slots)
    assignment: dict[str, str | None] = {}
    for intent_id in order(seed, by_id, algorithm=algorithm):
        entry = by_id[intent_id]
        slot = None if intent_id in held_out else pick(entry, free)
        won = slot is not None and book(entry, slot)
        assignment[intent_id] = slot.slot_id if won and slot else None
        if won and slot:
            free.remove(slot)
    return assignment


def draw(
    *,
    seed: str,
    algorithm: str,
    entries: Sequence[Entry],
    slots: Sequence[FreeSlot],
    refused: Collection[str] = (),
    held_out: Collection[str] = (),
) -> dict[str, str | None]:
    """Intent id -> the slot id it wins (None: lost, refused or held out), the same walk
    the platform ran; ``refused`` names the intents a booking rule turned down then,
    ``held_out`` those kept out of the draw before it."""
    refused = frozenset(refused)
    return walk(
        seed=seed,
        algorithm=algorithm,
        entries=entries,
        slots=slots,
        book=lambda e, _: e.intent_id not in refused,
        held_out=held_out,
    )


# -- checking a published draw -----------------------------------------------------------


@dataclass(frozen=True)
class Published:
    """What a run draw publishes: everything needed to re-run it, nothing personal."""

    algorithm: str
    seed_commitment: str
    seed: str
    inputs_digest: str
    entries: Sequence[Entry]
    slots: Sequence[FreeSlot]
    refused: Collection[str]
    held_out: Collection[str]
    assignment: Mapping[str, str | None]
    # Refused or held-out entry -> its reason code; None for records from before the
    # reasons were published (they verify on the other checks alone).
    reasons: Mapping[str, str] | None = None


def published(record: Mapping[str, Any]) -> Published:
    """A draw from its published record: the body of ``GET /v1/draws/{id}``, or a stored
    result with the draw row's algorithm, seed, commitment and inputs digest."""
    return Published(
        algorithm=str(record["algorithm"]),
        seed_commitment=str(record["seed_commitment"]),
        seed=str(record["seed"]),
        inputs_digest=str(record["inputs_digest"]),
        entries=[
            Entry(
                intent_id=str(e["intent_id"]),
                session_id=e.get("session_id"),
                title=e.get("title"),
                channel_id=e.get("channel_id"),
            )
            for e in record.get("entries") or []
        ],
        slots=[
            FreeSlot(
                slot_id=str(s["slot_id"]),
                session_id=int(s["session_id"]),
                number=int(s["number"]),
                title=str(s["title"]),
                reserved_for=s.get("reserved_for"),
            )
            for s in record.get("slots") or []
        ],
        refused=[str(i) for i in record.get("refused") or []],
        held_out=[str(i) for i in record.get("held_out") or []],
        assignment=dict(record.get("assignment") or {}),
        reasons=(
            None
            if record.get("reasons") is None
            else {str(k): str(v) for k, v in dict(record["reasons"]).items()}
        ),
    )


@dataclass(frozen=True)
class Recheck:
    """The checks of a published draw, each on its own so a mismatch says which."""

    recomputed: dict[str, str | None] | None  # None: the inputs cannot be re-run (problem)
    seed_matches_commitment: bool
    inputs_match_digest: bool
    assignment_reproduced: bool
    problem: str | None = None
    # Every refused or held-out entry, and no other, has a reason code, and none is in
    # two lists: the walk skipped exactly the entries the record says why it skipped.
    # None: a record from before reasons were published.
    exclusions_explained: bool | None = None

    @property
    def verified(self) -> bool:
        checks = (self.seed_matches_commitment, self.inputs_match_digest)
        return all(checks) and self.assignment_reproduced and self.exclusions_explained is not False


def recheck(published: Published) -> Recheck:
    """Re-run a published draw and compare: the seed is the committed one, the entries are
    the ones digested, and the walk gives the published assignment."""
    ids = [entry.intent_id for entry in published.entries]
    seed_ok = commitment(published.seed) == published.seed_commitment
    inputs_ok = inputs_digest(ids) == published.inputs_digest
    strangers = sorted({*published.refused, *published.held_out} - set(ids))
    try:
        if strangers:
            raise ValueError(f"refused or held out but not an entry: {strangers[0]}")
        recomputed = draw(
            seed=published.seed,
            algorithm=published.algorithm,
            entries=published.entries,
            slots=published.slots,
            refused=published.refused,
            held_out=published.held_out,
        )
    except ValueError as exc:
        return Recheck(
            None,
            seed_ok,
            inputs_ok,
            assignment_reproduced=False,
            problem=str(exc),
            exclusions_explained=explained(published),
        )
    reproduced = recomputed == dict(published.assignment)
    return Recheck(
        recomputed,
        seed_ok,
        inputs_ok,
        assignment_reproduced=reproduced,
        exclusions_explained=explained(published),
    )


def explained(published: Published) -> bool | None:
    """Every refused or held-out entry has a reason and no other entry has one, no entry
    is both refused and held out, and none of them won a slot. None without reasons."""
    if published.reasons is None:
        return None
    refused, held_out = set(published.refused), set(published.held_out)
    excluded = refused | held_out
    return (
        not refused & held_out
        and set(published.reasons) == excluded
        and all(published.reasons[i] for i in excluded)
        and all(published.assignment.get(i) is None for i in excluded)
    )
