"""Speed buys nothing: fast, repeated intents win no more often than one calm tap.

1,000 patients against 50 slots. 100 "fast" patients send their intent in the first
millisecond of the window, 100 times over; the other 900 send one at a random moment.
The draw collapses repeats (one person, one chance) and ignores arrival time, so the win
rates of the two groups must not differ significantly: a 2x2 chi-square test (1 degree
of freedom; 6.635 is the 0.01 critical value) over repeated seeded runs. A control run
with first-come allocation shows the test does detect an unfair allocation.
SQLite only: the statistics use the pure draw, plus one run through the database.
"""

from __future__ import annotations

import random
import uuid
from collections import Counter

import pytest
from sqlalchemy import select

from factories.supply import create_doctor
from factories.world import UNRELEASED_DAY, World, make_world
from fairslot.allocation import rules
from fairslot.allocation import service as allocation
from fairslot.allocation.models import Intent
from fairslot.allocation.states import AllocationMode, IntentStatus
from fairslot.allocation.verification import verify
from fairslot.allocation.worker import run_due_draws
from fairslot.bookings.models import Booking

PATIENTS, FAST, SLOTS, REPEATS = 1000, 100, 50, 100
WINDOW_SECONDS = 30 * 60
CRITICAL_001 = 6.635  # chi-square, 1 degree of freedom, p = 0.01
RUNS = 20


@pytest.fixture
def backend() -> str:
    return "sqlite"


def chi_square(fast_wins: int, fast_n: int, other_wins: int, other_n: int) -> float:
    """Pearson's chi-square for a 2x2 table (group x won/lost), no continuity correction."""
    table = [[fast_wins, fast_n - fast_wins], [other_wins, other_n - other_wins]]
    total = fast_n + other_n
    columns = [fast_wins + other_wins, total - fast_wins - other_wins]
    rows = [fast_n, other_n]
    return sum(
        (table[r][c] - rows[r] * columns[c] / total) ** 2 / (rows[r] * columns[c] / total)
        for r in range(2)
        for c in range(2)
    )


def simulate(run: int) -> tuple[dict[int, str], set[int], list[tuple[float, int]]]:
    """The requests of one run, in arrival order, and the intents they leave: the first
    request of each patient makes the intent, every later one collapses into it."""
    rng = random.Random(run)
    fast = set(rng.sample(range(PATIENTS), FAST))
    requests = [(rng.uniform(0, 0.001), p) for p in fast for _ in range(REPEATS)]
    requests += [(rng.uniform(0, WINDOW_SECONDS), p) for p in range(PATIENTS) if p not in fast]
    requests.sort()
    intents: dict[int, str] = {}
    for _, patient in requests:
        intents.setdefault(patient, str(uuid.UUID(int=rng.getrandbits(128), version=4)))
    return intents, fast, requests


def free_slots() -> list[rules.FreeSlot]:
    return [rules.FreeSlot(f"slot-{n}", 1, n, "chief") for n in range(1, SLOTS + 1)]


def test_fast_and_repeated_intents_win_no_more_often() -> None:
    statistics, pooled = [], Counter[str]()
    for run in range(RUNS):
        intents, fast, requests = simulate(run)
        assert len(requests) == FAST * REPEATS + PATIENTS - FAST
        assert len(intents) == PATIENTS  # one chance each, however many requests
        seed = f"{random.Random(10_000 + run).getrandbits(256):064x}"
        result = rules.draw(
            seed=seed,
            entries=[rules.Entry(intent_id=i, session_id=1) for i in intents.values()],
            slots=free_slots(),
        )
        winners = [p for p, i in intents.items() if result[i]]
        assert len(winners) == len(set(winners)) == SLOTS  # nobody wins twice
        assert len({result[intents[p]] for p in winners}) == SLOTS
        fast_wins = sum(1 for p in winners if p in fast)
        pooled["fast"] += fast_wins
        pooled["other"] += SLOTS - fast_wins
        statistics.append(chi_square(fast_wins, FAST, SLOTS - fast_wins, PATIENTS - FAST))

    rejections = sum(1 for x in statistics if x > CRITICAL_001)
    # Under fairness each run rejects with probability 0.01; 3+ of 20 would be p < 0.001.
    assert rejections <= 2, statistics
    total = chi_square(pooled["fast"], FAST * RUNS, pooled["other"], (PATIENTS - FAST) * RUNS)
    assert total < CRITICAL_001, (pooled, total)
    print(  # shown with -s: the measured statistics
        f"fast win rate {pooled['fast'] / (FAST * RUNS):.4f}, "
        f"ordinary {pooled['other'] / ((PATIENTS - FAST) * RUNS):.4f}, "
        f"pooled chi2 {total:.3f}, max per-run chi2 {max(statistics):.3f}, "
        f"rejections {rejections}/{RUNS}"
    )


def test_the_same_test_catches_first_come_allocation() -> None:
    """The control: selling to the first arrivals hands every slot to the fast."""
    _, fast, requests = simulate(0)
    first_come: list[int] = []
    for _, patient in requests:
        if patient not in first_come:
            first_come.append(patient)
    winners = first_come[:SLOTS]
    fast_wins = sum(1 for p in winners if p in fast)
    assert chi_square(fast_wins, FAST, SLOTS - fast_wins, PATIENTS - FAST) > CRITICAL_001


def test_one_draw_through_the_database_collapses_repeats(db, platform) -> None:
    world: World = make_world(db, platform)
    world.department = world.department_(allocation_mode=AllocationMode.DRAW)
    world.doctor = create_doctor(db, hospital=world.hospital, department=world.department)
    session = world.session(day=UNRELEASED_DAY, capacity=5)
    people = [world.patient() for _ in range(30)]
    fast = people[:5]
    world.platform.clock.set(session.push_at)
    for account, patient in [*[p for p in fast for _ in range(10)], *people[5:]]:
        allocation.register_intent(
            db,
            account_id=account.id,
            patient_id=patient.id,
            target=allocation.IntentTarget(session_id=session.id),
            payment_account="6222020000001234",
            payment_reference=f"pre-{patient.id}",
            now=world.now(),
            ctx=world.ctx(account),
            policy=world.policy,
            protector=world.platform.protector,
        )
        db.commit()
    world.platform.clock.set(session.release_at)
    run_due_draws(
        db,
        now=world.now(),
        policy=world.policy,
        rng=world.platform.rng,
        protector=world.platform.protector,
    )
    db.commit()
    intents = db.scalars(select(Intent)).all()
    assert len(intents) == 30
    won = [i for i in intents if i.status == IntentStatus.WON]
    assert len(won) == 5 and len({i.patient_id for i in won}) == 5
    booked = db.scalars(select(Booking).where(Booking.session_id == session.id)).all()
    assert sorted(b.patient_id for b in booked) == sorted(i.patient_id for i in won)
    assert verify(db, draw_id=won[0].draw_id).verified is True
