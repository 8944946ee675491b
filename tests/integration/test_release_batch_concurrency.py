"""Hammering a release batch at its release instant on PostgreSQL: parallel holds of many
patients (each several times, from two accounts) make exactly one entry per patient,
none lost, and racing first holds make one batch."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from factories.batches import batch_department
from factories.demand import create_account, create_patient, resident_id
from factories.world import UNRELEASED_DAY, World
from fairslot.allocation import batches
from fairslot.allocation.models import Draw, Intent
from fairslot.db.engine import unit_of_work
from fairslot.patients.models import Account, Patient

PATIENTS = 8
HOLDS_EACH = 3  # in parallel: two from the patient's own account, one from a relative's


@pytest.fixture(params=[pytest.param("postgresql", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_parallel_holds_at_the_release_make_one_entry_per_patient_and_lose_none(
    world: World,
) -> None:
    department = batch_department(world)
    session = world.session(day=UNRELEASED_DAY, capacity=3, department=department)
    people: list[tuple[Account, Account, Patient]] = []
    for _ in range(PATIENTS):
        own = create_account(world.db, world.platform, channel_id=world.channel.id)
        relative = create_account(world.db, world.platform, channel_id=world.channel.id)
        same = {"id_number": resident_id(), "name": "李娜"}
        patient = create_patient(world.db, world.platform, account=own, **same)
        create_patient(world.db, world.platform, account=relative, **same)
        people.append((own, relative, patient))
    world.db.commit()
    world.platform.clock.set(session.release_at)  # no batch row yet: first holds make it
    calls = [
        (n, account, patient)
        for n in range(HOLDS_EACH)
        for own, relative, patient in people
        for account in [relative if n == 2 else own]
    ]
    barrier = threading.Barrier(len(calls))

    def hold(call: tuple[int, Account, Patient]) -> tuple[int, str]:
        n, account, patient = call
        with unit_of_work(world.platform.sessions) as db:
            barrier.wait(timeout=30)
            entered = batches.entry_for_hold(
                db,
                slot_id=None,
                session_id=session.id,
                account_id=account.id,
                patient_id=patient.id,
                now=world.now(),
                ctx=world.ctx(account, device_id=f"dev-{patient.id}-{n}"),
                policy=world.policy,
                protector=world.platform.protector,
            )
            assert entered is not None
            return patient.id, entered.entry.id

    with ThreadPoolExecutor(len(calls)) as pool:
        answers = list(pool.map(hold, calls))

    assert len(answers) == PATIENTS * HOLDS_EACH
    by_patient: dict[int, set[str]] = {}
    for patient_id, entry_id in answers:
        by_patient.setdefault(patient_id, set()).add(entry_id)
    assert all(len(ids) == 1 for ids in by_patient.values())  # one answer per person
    world.db.expire_all()
    stored = {i.patient_id: i.id for i in world.db.scalars(select(Intent))}
    assert stored == {p: next(iter(ids)) for p, ids in by_patient.items()}  # none lost
    assert world.db.scalar(select(func.count()).select_from(Draw)) == 1
    world.db.commit()
