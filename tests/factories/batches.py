"""Release batches to test with: a batch-mode department, entries by hold, the worker."""

from __future__ import annotations

import random

from sqlalchemy import select

from factories import draw_entries
from factories.supply import create_doctor
from factories.world import World
from fairslot.allocation import batches, modes
from fairslot.allocation.batches import Entered
from fairslot.allocation.models import Draw, Intent
from fairslot.allocation.states import AllocationMode
from fairslot.bookings import service as bookings
from fairslot.bookings.models import Booking
from fairslot.hospitals.models import Department, Doctor, DoctorTitle
from fairslot.patients.models import Account, Patient
from fairslot.schedules.models import ClinicSession


def batch_department(world: World, *, override: AllocationMode | None = None) -> Department:
    """A department the hospital put in release-batch mode (the override, audited)."""
    return _batch_department(world, override=override)[0]


def alike_batch_department(world: World) -> tuple[Department, Doctor]:
    """A release-batch department of the world's specialty with a doctor of the world's
    doctor's title: its sessions are alternatives to the world's, once on sale."""
    return _batch_department(world, title=world.doctor.title, specialty=world.department.specialty)


def _batch_department(
    world: World,
    *,
    override: AllocationMode | None = None,
    title: DoctorTitle | None = None,
    **department: object,
) -> tuple[Department, Doctor]:
    made = world.department_(**department)
    doctor = create_doctor(
        world.db, hospital=world.hospital, department=made, **({"title": title} if title else {})
    )
    modes.override(
        world.db,
        department_id=made.id,
        hospital_id=world.hospital.id,
        mode=override or AllocationMode.RELEASE_BATCH,
        actor=f"hospital:{world.hospital.code}",
        now=world.now(),
    )
    world.db.commit()
    return made, doctor


def seeded(rng: random.Random):  # type: ignore[no-untyped-def]
    """A repeatable seed source for tests (production draws from ``secrets``)."""
    return lambda: f"{rng.getrandbits(256):064x}"


def open_batch(world: World, session: ClinicSession, *, rng: random.Random) -> Draw:
    """The batch as the worker makes it at the push, with a repeatable seed."""
    batch = batches.ensure_batch(
        world.db,
        department_id=session.department_id,
        session_date=session.session_date,
        protector=world.platform.protector,
        default_seconds=world.policy.batch_window_seconds,
        new_seed=seeded(rng),
    )
    world.db.commit()
    assert batch is not None
    return batch


def hold(
    world: World,
    account: Account,
    patient: Patient,
    session: ClinicSession,
    *,
    slot_id: str | None = None,
    device: str | None = None,
) -> Entered | Booking:
    """What a hold does now: enter the batch in its window, else claim first-come. Each
    patient on a phone and a home network of its own unless ``device`` says otherwise
    (pre-draw screening links entrants that share them)."""
    home = f"10.{patient.id // 65536 % 256}.{patient.id // 256 % 256}.{patient.id % 256}"
    ctx = world.ctx(account, device_id=device or f"phone-{patient.id}", ip=home)
    entered = batches.entry_for_hold(
        world.db,
        slot_id=slot_id,
        session_id=None if slot_id else session.id,
        account_id=account.id,
        patient_id=patient.id,
        now=world.now(),
        ctx=ctx,
        policy=world.policy,
        protector=world.platform.protector,
    )
    if entered is not None:
        world.db.commit()
        return entered
    booking = bookings.hold(
        world.db,
        account_id=account.id,
        patient_id=patient.id,
        slot_id=slot_id
        or bookings.first_free_slot(
            world.db, session_id=session.id, now=world.now(), channel_id=world.channel.id
        ),
        now=world.now(),
        ctx=ctx,
        policy=world.policy,
        rng=world.platform.rng,
    )
    world.db.commit()
    return booking


def run_worker(world: World) -> int:
    """The worker's pass (``draw_entries.run_worker``): how many draws it ran."""
    return draw_entries.run_worker(world).drawn


def entries_of(world: World, batch_id: int) -> list[Intent]:
    world.db.expire_all()
    found = list(world.db.scalars(select(Intent).where(Intent.draw_id == batch_id)))
    world.db.commit()
    return found
