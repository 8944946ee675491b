"""The raw-limit measurement sends the hold's own claim: bare SQL through the driver
claims a released slot once and refuses it after, and never claims an unreleased one."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session

from factories.world import UNRELEASED_DAY, World, make_world
from fairslot.bench.raw import compile_claim, measure
from fairslot.bookings import repository as booking_repo
from fairslot.bootstrap import Platform
from fairslot.schedules.states import SlotState


@pytest.fixture
def world(db: Session, platform: Platform) -> World:
    return make_world(db, platform)


def _send(platform: Platform, world: World, slot_id: str) -> int:
    claim = compile_claim(platform.engine.dialect)
    fairy = platform.engine.raw_connection()
    try:
        driver: Any = fairy.driver_connection
        cursor = driver.cursor()
        cursor.execute(
            claim.sql, claim.params(slot_id=slot_id, channel_id=world.channel.id, now=world.now())
        )
        driver.commit()
        return int(cursor.rowcount)
    finally:
        fairy.close()


def test_the_bare_claim_takes_a_released_slot_once(world: World, platform: Platform) -> None:
    slot = world.slots(world.session(capacity=2))[0]

    assert _send(platform, world, slot.id) == 1
    assert _send(platform, world, slot.id) == 0
    fresh = booking_repo.get_slot(world.db, slot.id)
    assert fresh is not None and fresh.state == SlotState.HELD


def test_the_bare_claim_keeps_the_release_gate(world: World, platform: Platform) -> None:
    slot = world.slots(world.session(day=UNRELEASED_DAY, capacity=1))[0]

    assert _send(platform, world, slot.id) == 0
    fresh = booking_repo.get_slot(world.db, slot.id)
    assert fresh is not None and fresh.state == SlotState.OPEN


def test_the_measurement_counts_every_claim_and_wins_each_slot_once(
    world: World, platform: Platform
) -> None:
    slots = [s.id for s in world.slots(world.session(capacity=3))]
    world.db.commit()

    result = measure(
        database_url=platform.settings.database_url,
        slot_ids=slots,
        channel_id=world.channel.id,
        processes=1,
        threads=2,
        seconds=0.5,
        at=world.now(),
    )

    assert result.won == 3
    assert result.claims > result.won
    assert result.rps == result.claims / 0.5
