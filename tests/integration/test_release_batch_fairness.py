"""Speed buys nothing in a release batch: measured over many seeded batches, from the
database, against a first-come control run the same way on the same platform — one
configured without caution for clinics with no history (``scarce_without_history`` off),
so that the control's new first-come clinics stay a race."""

from __future__ import annotations

import datetime as dt
import math
import random
import uuid

import pytest
from sqlalchemy import select

from factories.batches import batch_department, hold, open_batch, run_worker
from factories.supply import create_doctor
from factories.world import UNRELEASED_DAY, World
from fairslot.allocation.models import Intent
from fairslot.allocation.states import IntentStatus
from fairslot.bookings.models import Booking
from fairslot.config import Settings, load_settings
from fairslot.errors import DomainError
from fairslot.hospitals.models import Department

BATCHES = 30
CAPACITY = 2
GENUINE = 4  # per batch, one hold each, some seconds after the bot
BOT_HOLDS = 50  # at the release instant, from 50 devices
SECOND = dt.timedelta(seconds=1)


@pytest.fixture
def settings(database_url: str) -> Settings:
    return load_settings(database_url=database_url, db_pool_size=5, scarce_without_history=False)


def two_sided_binomial_p(k: int, n: int, p: float) -> float:
    """The exact two-sided binomial test (the outcomes no more likely than ``k``)."""
    probs = [math.comb(n, i) * p**i * (1 - p) ** (n - i) for i in range(n + 1)]
    return min(1.0, sum(q for q in probs if q <= probs[k] * (1 + 1e-9)))


def release(world: World, department: Department, *, batched: bool, rng: random.Random) -> int:
    """One release: the bot fires its holds at the instant, the genuine patients later.
    Returns the bot's patient id."""
    session = world.session(day=UNRELEASED_DAY, capacity=CAPACITY, department=department)
    world.platform.clock.set(session.push_at)
    if batched:
        open_batch(world, session, rng=rng)
    bot_account, bot = world.patient()
    genuine = [world.patient() for _ in range(GENUINE)]
    world.platform.clock.set(session.release_at)
    for n in range(BOT_HOLDS):
        try:
            hold(world, bot_account, bot, session, device=f"bot-{n}")
        except DomainError:
            world.db.rollback()  # first-come: a second hold for the same day is refused
    for account, patient in genuine:
        world.platform.clock.set(session.release_at + rng.randint(2, 50) * SECOND)
        try:
            hold(world, account, patient, session)
        except DomainError:
            world.db.rollback()  # first-come: sold out
    world.platform.clock.set(session.release_at + 60 * SECOND)
    run_worker(world)
    return bot.id


def wins(world: World, departments: list[Department], bot_ids: set[int]) -> tuple[int, int]:
    """(bot wins, genuine wins): the bookings the platform made, read from the database."""
    rows = world.db.scalars(
        select(Booking).where(Booking.department_id.in_([d.id for d in departments]))
    ).all()
    world.db.commit()
    bots = sum(1 for b in rows if b.patient_id in bot_ids)
    return bots, len(rows) - bots


def test_a_bot_firing_50_holds_wins_no_more_often_than_a_patient_sending_one(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = random.Random(7)
    # Entry ids (uuid4) feed the shuffle's inputs: drawn from the seeded generator here so
    # that every run measures the same batches (the platform's come from the OS).
    monkeypatch.setattr(uuid, "uuid4", lambda: uuid.UUID(int=rng.getrandbits(128), version=4))
    batched = [batch_department(world) for _ in range(BATCHES)]
    control = []
    for _ in range(BATCHES):
        department = world.department_()
        create_doctor(world.db, hospital=world.hospital, department=department)
        control.append(department)
    world.db.commit()
    start = world.now()
    bots: set[int] = set()
    for group, is_batched in ((batched, True), (control, False)):
        for department in group:
            world.platform.clock.set(start)
            bots.add(release(world, department, batched=is_batched, rng=rng))

    bot_wins, genuine_wins = wins(world, batched, bots)
    assert bot_wins + genuine_wins == BATCHES * CAPACITY  # every slot went to someone
    entries = world.db.scalars(select(Intent).where(Intent.patient_id.in_(sorted(bots)))).all()
    world.db.commit()
    assert len(entries) == BATCHES  # 50 holds, one entry each time
    assert all(e.status in (IntentStatus.WON, IntentStatus.LOST) for e in entries)
    share = CAPACITY / (GENUINE + 1)
    bot_rate = bot_wins / BATCHES
    genuine_rate = genuine_wins / (BATCHES * GENUINE)
    p_bot = two_sided_binomial_p(bot_wins, BATCHES, share)
    print(f"batch: bot {bot_rate:.3f} genuine {genuine_rate:.3f} p={p_bot:.3f}")
    assert p_bot > 0.01, (bot_rate, genuine_rate, p_bot)
    # Nor do the patients who held once, seconds later, fare worse than their share.
    assert two_sided_binomial_p(genuine_wins, BATCHES * GENUINE, share) > 0.01, genuine_rate

    # The control, run the same way first-come: the bot takes a slot every single time.
    control_bot_wins, _ = wins(world, control, bots)
    assert control_bot_wins == BATCHES
    assert two_sided_binomial_p(control_bot_wins, BATCHES, share) < 1e-6
