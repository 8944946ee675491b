"""The release draw as a pure function: deterministic, order-blind, one chance each, under
the current shuffle and the one older draws were made with."""

from __future__ import annotations

import random
import uuid

import pytest

from fairslot.allocation import rules, shuffle
from fairslot.allocation.rules import Entry, FreeSlot

SEED = "ab" * 32


@pytest.fixture(params=shuffle.ALGORITHMS)
def algorithm(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def ids(n: int, seed: int = 1) -> list[str]:
    rng = random.Random(seed)
    return [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(n)]


def slots(session_id: int, count: int, title: str = "chief") -> list[FreeSlot]:
    return [FreeSlot(f"s{session_id}-{n}", session_id, n, title) for n in range(1, count + 1)]


def entries(intent_ids: list[str], session_id: int = 1) -> list[Entry]:
    return [Entry(intent_id=i, session_id=session_id) for i in intent_ids]


def test_the_same_seed_and_inputs_give_the_same_assignment(algorithm: str) -> None:
    people = entries(ids(30))
    first = rules.draw(seed=SEED, algorithm=algorithm, entries=people, slots=slots(1, 10))
    again = rules.draw(seed=SEED, algorithm=algorithm, entries=people, slots=slots(1, 10))
    assert first == again
    assert sum(1 for slot in first.values() if slot) == 10


def test_the_order_the_intents_arrived_in_does_not_matter(algorithm: str) -> None:
    people = entries(ids(30))
    shuffled = list(people)
    random.Random(5).shuffle(shuffled)
    as_sent = rules.draw(seed=SEED, algorithm=algorithm, entries=people, slots=slots(1, 10))
    reordered = rules.draw(seed=SEED, algorithm=algorithm, entries=shuffled, slots=slots(1, 10))
    assert as_sent == reordered
    assert rules.order(SEED, [e.intent_id for e in people], algorithm=algorithm) == rules.order(
        SEED, [e.intent_id for e in shuffled], algorithm=algorithm
    )


def test_another_seed_gives_another_order(algorithm: str) -> None:
    people = ids(30)
    assert rules.order(SEED, people, algorithm=algorithm) != rules.order(
        "cd" * 32, people, algorithm=algorithm
    )


def test_one_person_has_one_chance(algorithm: str) -> None:
    people = entries(ids(5))
    with pytest.raises(ValueError, match="one chance"):
        rules.draw(seed=SEED, algorithm=algorithm, entries=[*people, people[0]], slots=slots(1, 3))
    result = rules.draw(seed=SEED, algorithm=algorithm, entries=people, slots=slots(1, 3))
    won = [slot for slot in result.values() if slot]
    assert len(won) == len(set(won)) == 3


def test_winners_take_the_lowest_numbered_slots_in_draw_order(algorithm: str) -> None:
    people = ids(3)
    result = rules.draw(seed=SEED, algorithm=algorithm, entries=entries(people), slots=slots(1, 5))
    in_order = [result[i] for i in rules.order(SEED, people, algorithm=algorithm)]
    assert in_order == ["s1-1", "s1-2", "s1-3"]


def test_a_title_intent_accepts_any_session_of_that_title_only(algorithm: str) -> None:
    free = [*slots(1, 1, "chief"), *slots(2, 1, "chief"), *slots(3, 5, "attending")]
    people = [Entry(intent_id=i, title="chief") for i in ids(4)]
    result = rules.draw(seed=SEED, algorithm=algorithm, entries=people, slots=free)
    assert sorted(slot for slot in result.values() if slot) == ["s1-1", "s2-1"]


def test_a_session_intent_takes_only_its_session(algorithm: str) -> None:
    free = [*slots(1, 1), *slots(2, 3)]
    people = entries(ids(3), session_id=1)
    result = rules.draw(seed=SEED, algorithm=algorithm, entries=people, slots=free)
    assert [slot for slot in result.values() if slot] == ["s1-1"]


def test_a_slot_reserved_for_another_channel_is_not_drawn_for_this_one(algorithm: str) -> None:
    free = [FreeSlot("r", 1, 1, "chief", reserved_for=9), FreeSlot("o", 1, 2, "chief")]
    people = [Entry(intent_id=i, session_id=1, channel_id=1) for i in ids(2)]
    result = rules.draw(seed=SEED, algorithm=algorithm, entries=people, slots=free)
    assert sorted(slot for slot in result.values() if slot) == ["o"]
    ours = [Entry(intent_id=i, session_id=1, channel_id=9) for i in ids(2)]
    result = rules.draw(seed=SEED, algorithm=algorithm, entries=ours, slots=free)
    assert sorted(slot for slot in result.values() if slot) == ["o", "r"]


def test_a_refused_intent_takes_nothing_and_its_slot_goes_down_the_order(algorithm: str) -> None:
    people = ids(2)
    first = rules.order(SEED, people, algorithm=algorithm)[0]
    result = rules.draw(
        seed=SEED, algorithm=algorithm, entries=entries(people), slots=slots(1, 1), refused=[first]
    )
    assert result[first] is None
    assert result[next(i for i in people if i != first)] == "s1-1"


def test_a_held_out_entry_keeps_its_place_but_is_offered_nothing(algorithm: str) -> None:
    people = ids(5)
    in_order = rules.order(SEED, people, algorithm=algorithm)
    result = rules.draw(
        seed=SEED,
        algorithm=algorithm,
        entries=entries(people),
        slots=slots(1, 2),
        held_out=[in_order[0]],
    )
    assert [result[i] for i in in_order] == [None, "s1-1", "s1-2", None, None]


def test_an_unknown_algorithm_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown draw algorithm"):
        rules.order(SEED, ids(3), algorithm="sha256-something-else")


def test_the_commitment_and_inputs_digest_are_sha256_hex() -> None:
    assert rules.commitment("abc") == (
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    )
    assert rules.inputs_digest(["b", "a"]) == rules.sha256_hex("a,b")


# -- re-checking a published draw -------------------------------------------------------


def published(made_with: str, **changes: object) -> rules.Published:
    """A draw of six entries for three slots (one refused, one held out) made with
    ``made_with``, as published, with ``changes`` to what is published."""
    people = entries(ids(6))
    free = slots(1, 3)
    refused = [people[0].intent_id]
    held_out = [people[1].intent_id]
    record = {
        "algorithm": made_with,
        "seed": SEED,
        "seed_commitment": rules.commitment(SEED),
        "inputs_digest": rules.inputs_digest([e.intent_id for e in people]),
        "entries": [{"intent_id": e.intent_id, "session_id": 1} for e in people],
        "slots": [
            {"slot_id": s.slot_id, "session_id": 1, "number": s.number, "title": s.title}
            for s in free
        ],
        "refused": refused,
        "held_out": held_out,
        "assignment": rules.draw(
            seed=SEED,
            algorithm=made_with,
            entries=people,
            slots=free,
            refused=refused,
            held_out=held_out,
        ),
    }
    return rules.published({**record, **changes})


def test_a_published_draw_rechecks(algorithm: str) -> None:
    found = rules.recheck(published(algorithm))
    assert found.verified and found.problem is None
    assert found.recomputed is not None and sum(1 for s in found.recomputed.values() if s) == 3


def test_a_recheck_says_which_check_failed(algorithm: str) -> None:
    other_seed = rules.recheck(published(algorithm, seed="cd" * 32))
    assert not other_seed.seed_matches_commitment and not other_seed.verified
    assert other_seed.inputs_match_digest
    digest = rules.recheck(published(algorithm, inputs_digest=rules.sha256_hex("")))
    assert not digest.inputs_match_digest and digest.assignment_reproduced
    good = published(algorithm)
    winner = next(i for i, slot in good.assignment.items() if slot)
    loser = next(i for i, slot in good.assignment.items() if slot is None)
    swapped = {**good.assignment, winner: None, loser: good.assignment[winner]}
    tampered = rules.recheck(published(algorithm, assignment=swapped))
    assert tampered.seed_matches_commitment and tampered.inputs_match_digest
    assert not tampered.assignment_reproduced and not tampered.verified


def test_another_algorithm_does_not_reproduce_the_assignment() -> None:
    made_with_v1 = published(shuffle.V1)
    assert rules.recheck(made_with_v1).verified
    claimed_v2 = rules.recheck(published(shuffle.V1, algorithm=shuffle.V2))
    assert not claimed_v2.assignment_reproduced


def test_a_refusal_of_someone_not_in_the_draw_cannot_be_rechecked(algorithm: str) -> None:
    found = rules.recheck(published(algorithm, refused=["not-an-entry"]))
    assert not found.verified and found.recomputed is None
    assert found.problem is not None and "not-an-entry" in found.problem
