"""Who among the waiting patients gets a returned slot: pure, no database."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime, timedelta

from fairslot.waitlist.rules import Candidate, WaitlistOrder, offer_order

CHI2_9DF_P01 = 21.666
T0 = datetime(2026, 11, 22, 0, 0, tzinfo=UTC)


def candidates(n: int) -> list[Candidate]:
    # entry ids deliberately not in join order: e-09 joined first
    return [
        Candidate(entry_id=f"e-{n - i:02d}", joined_at=T0 + timedelta(seconds=i)) for i in range(n)
    ]


def test_first_come_offers_the_slot_to_the_oldest_entry_first() -> None:
    pool = candidates(5)
    order = offer_order(list(reversed(pool)), order=WaitlistOrder.FIRST_COME, rng=random.Random(1))
    assert order == ["e-05", "e-04", "e-03", "e-02", "e-01"]


def test_first_come_breaks_a_tie_in_join_time_by_entry_id() -> None:
    tied = [Candidate("b", T0), Candidate("a", T0)]
    assert offer_order(tied, order=WaitlistOrder.FIRST_COME, rng=random.Random(1)) == ["a", "b"]


def test_random_order_is_deterministic_for_a_seed_whatever_the_input_order() -> None:
    pool = candidates(8)
    first = offer_order(pool, order=WaitlistOrder.RANDOM, rng=random.Random(42))
    again = offer_order(list(reversed(pool)), order=WaitlistOrder.RANDOM, rng=random.Random(42))
    other = offer_order(pool, order=WaitlistOrder.RANDOM, rng=random.Random(43))
    assert first == again
    assert sorted(first) == sorted(c.entry_id for c in pool)
    assert first != other


def test_random_order_gives_every_waiting_patient_the_same_chance_whenever_they_joined() -> None:
    pool = candidates(10)
    rng = random.Random(2026)
    wins = Counter(offer_order(pool, order=WaitlistOrder.RANDOM, rng=rng)[0] for _ in range(5000))

    assert set(wins) == {c.entry_id for c in pool}
    # chi-square against the uniform (9 degrees of freedom; 21.67 is the p = 0.01 point):
    # the earliest joiner gains nothing
    expected = 5000 / len(pool)
    statistic = sum((count - expected) ** 2 / expected for count in wins.values())
    assert statistic < CHI2_9DF_P01
    earliest = pool[0].entry_id
    assert wins[earliest] < 5000 / 10 * 1.25


def test_an_empty_waitlist_offers_to_nobody() -> None:
    assert offer_order([], order=WaitlistOrder.RANDOM, rng=random.Random(1)) == []
    assert offer_order([], order=WaitlistOrder.FIRST_COME, rng=random.Random(1)) == []
