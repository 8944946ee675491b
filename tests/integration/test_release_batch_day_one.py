"""With FAIRSLOT_SCARCE_WITHOUT_HISTORY, a clinic with no history is batched from its very
first release: day 1 is no race either."""

from __future__ import annotations

import datetime as dt

import pytest

from factories.batches import hold, run_worker
from factories.supply import create_doctor
from factories.world import UNRELEASED_DAY, World
from fairslot.allocation import modes
from fairslot.allocation.batches import Entered
from fairslot.allocation.models import Intent
from fairslot.allocation.states import AllocationMode, IntentStatus
from fairslot.config import Settings, load_settings
from fairslot.errors import DomainError


@pytest.fixture
def settings(database_url: str) -> Settings:
    return load_settings(database_url=database_url, scarce_without_history=True)


def test_a_new_first_come_clinic_is_batched_from_its_first_release(world: World) -> None:
    department = world.department_()
    create_doctor(world.db, hospital=world.hospital, department=department)
    world.db.commit()
    session = world.session(day=UNRELEASED_DAY, capacity=1, department=department)
    world.platform.clock.set(session.push_at)
    run_worker(world)  # judges the new clinic (no history: scarce) and opens its batch
    found = modes.view(
        world.db, department_id=department.id, hospital_id=world.hospital.id, default_seconds=60
    )
    world.db.commit()
    assert found.schedule_mode == AllocationMode.FIRST_COME
    assert found.effective_mode == AllocationMode.RELEASE_BATCH

    world.platform.clock.set(session.release_at)
    bot = hold(world, *world.patient(), session, device="grabber")
    assert isinstance(bot, Entered)  # the fastest request claims nothing
    world.platform.clock.set(session.release_at + dt.timedelta(seconds=60))
    assert run_worker(world) == 1
    world.db.expire_all()
    assert world.db.get(Intent, bot.entry.id).status == IntentStatus.WON  # type: ignore[union-attr]
    world.db.commit()


def test_the_hospital_cannot_make_a_clinic_without_history_a_race_then(world: World) -> None:
    department = world.department_()
    create_doctor(world.db, hospital=world.hospital, department=department)
    world.db.commit()
    world.session(day=UNRELEASED_DAY, capacity=1, department=department)
    run_worker(world)
    with pytest.raises(DomainError) as refused:
        modes.override(
            world.db,
            department_id=department.id,
            hospital_id=world.hospital.id,
            mode=AllocationMode.FIRST_COME,
            actor="hospital:H",
            now=world.now(),
        )
    world.db.rollback()
    assert refused.value.code == "scarce_release_cannot_race"
