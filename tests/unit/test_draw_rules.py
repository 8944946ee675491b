"""The release draw as a pure function: deterministic, order-blind, one chance each."""

from __future__ import annotations

import random
import uuid

import pytest

from fairslot.allocation import rules
from fairslot.allocation.rules import Entry, FreeSlot

SEED = "ab" * 32


def ids(n: int, seed: int = 1) -> list[str]:
    rng = random.Random(seed)
    return [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(n)]


def slots(session_id: int, count: int, title: str = "chief") -> list[FreeSlot]:
    return [FreeSlot(f"s{session_id}-{n}", session_id, n, title) for n in range(1, count + 1)]


def entries(intent_ids: list[str], session_id: int = 1) -> list[Entry]:
    return [Entry(intent_id=i, session_id=session_id) for i in intent_ids]


def test_the_same_seed_and_inputs_give_the_same_assignment() -> None:
    people = entries(ids(30))
    first = rules.draw(seed=SEED, entries=people, slots=slots(1, 10))
    again = rules.draw(seed=SEED, entries=people, slots=slots(1, 10))
    assert first == again
    assert sum(1 for slot in first.values() if slot) == 10


def test_the_order_the_intents_arrived_in_does_not_matter() -> None:
    people = entries(ids(30))
    shuffled = list(people)
    random.Random(5).shuffle(shuffled)
    assert rules.draw(seed=SEED, entries=people, slots=slots(1, 10)) == rules.draw(
        seed=SEED, entries=shuffled, slots=slots(1, 10)
    )
    assert rules.order(SEED, [e.intent_id for e in people]) == rules.order(
        SEED, [e.intent_id for e in shuffled]
    )


def test_another_seed_gives_another_order() -> None:
    people = ids(30)
    assert rules.order(SEED, people) != rules.order("cd" * 32, people)


def test_one_person_has_one_chance() -> None:
    people = entries(ids(5))
    with pytest.raises(ValueError, match="one chance"):
        rules.draw(seed=SEED, entries=[*people, people[0]], slots=slots(1, 3))
    result = rules.draw(seed=SEED, entries=people, slots=slots(1, 3))
    won = [slot for slot in result.values() if slot]
    assert len(won) == len(set(won)) == 3


def test_winners_take_the_lowest_numbered_slots_in_draw_order() -> None:
    people = ids(3)
    result = rules.draw(seed=SEED, entries=entries(people), slots=slots(1, 5))
    in_order = [result[i] for i in rules.order(SEED, people)]
    assert in_order == ["s1-1", "s1-2", "s1-3"]


def test_a_title_intent_accepts_any_session_of_that_title_only() -> None:
    free = [*slots(1, 1, "chief"), *slots(2, 1, "chief"), *slots(3, 5, "attending")]
    people = [Entry(intent_id=i, title="chief") for i in ids(4)]
    result = rules.draw(seed=SEED, entries=people, slots=free)
    assert sorted(slot for slot in result.values() if slot) == ["s1-1", "s2-1"]


def test_a_session_intent_takes_only_its_session() -> None:
    free = [*slots(1, 1), *slots(2, 3)]
    people = entries(ids(3), session_id=1)
    result = rules.draw(seed=SEED, entries=people, slots=free)
    assert [slot for slot in result.values() if slot] == ["s1-1"]


def test_a_slot_reserved_for_another_channel_is_not_drawn_for_this_one() -> None:
    free = [FreeSlot("r", 1, 1, "chief", reserved_for=9), FreeSlot("o", 1, 2, "chief")]
    people = [Entry(intent_id=i, session_id=1, channel_id=1) for i in ids(2)]
    result = rules.draw(seed=SEED, entries=people, slots=free)
    assert sorted(slot for slot in result.values() if slot) == ["o"]
    ours = [Entry(intent_id=i, session_id=1, channel_id=9) for i in ids(2)]
    assert sorted(s for s in rules.draw(seed=SEED, entries=ours, slots=free).values() if s) == [
        "o",
        "r",
    ]


def test_a_refused_intent_takes_nothing_and_its_slot_goes_down_the_order() -> None:
    people = ids(2)
    first = rules.order(SEED, people)[0]
    result = rules.draw(seed=SEED, entries=entries(people), slots=slots(1, 1), refused=[first])
    assert result[first] is None
    assert result[next(i for i in people if i != first)] == "s1-1"


def test_the_commitment_and_inputs_digest_are_sha256_hex() -> None:
    assert rules.commitment("abc") == (
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    )
    assert rules.inputs_digest(["b", "a"]) == rules.sha256_hex("a,b")
