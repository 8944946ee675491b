"""The claim's release gate, by slot and by session, on SQLite and PostgreSQL.

By session the session's part of the gate is asked once per statement rather than per
candidate slot (``bookings/repository.py::_claimable``): both forms must still refuse
exactly the same sessions and take the same slot.
"""

from __future__ import annotations

import datetime as dt
import random

import pytest

from factories.batches import alike_batch_department, open_batch
from factories.bookings import hold
from factories.supply import import_session
from factories.world import RELEASED_DAY, UNRELEASED_DAY, World, make_world
from fairslot.bookings import transitions
from fairslot.bookings.models import Booking
from fairslot.bookings.states import BookingStatus
from fairslot.schedules.models import ClinicSession
from fairslot.schedules.states import SessionStatus

HOLD = dt.timedelta(minutes=15)


@pytest.fixture
def world(db, platform) -> World:
    return make_world(db, platform)


def push(world: World, *, day: dt.date = RELEASED_DAY, **spec: object) -> ClinicSession:
    world.db.commit()
    session = import_session(
        world.db,
        hospital=spec.pop("hospital", world.hospital),  # type: ignore[arg-type]
        department=spec.pop("department", world.department),  # type: ignore[arg-type]
        doctor=spec.pop("doctor", world.doctor),  # type: ignore[arg-type]
        date=day,
        now=world.now(),
        capacity=3,
        **spec,
    )
    world.db.commit()
    return session


def claims(world: World, session: ClinicSession) -> tuple[str | None, str | None]:
    """What a hold's claim by session and one of the session's first slot take
    (``transitions.claim_and_hold``, each rolled back): the slot's id, or None."""
    first = min(world.slots(session), key=lambda s: s.number).id
    account, patient = world.patient()
    taken: list[str | None] = []
    for by_session in (True, False):
        now = world.now()
        booking = Booking(
            slot_id=None if by_session else first,
            session_id=session.id,
            department_id=session.department_id,
            session_date=session.session_date,
            patient_id=patient.id,
            account_id=account.id,
            channel_id=world.channel.id,
            status=BookingStatus.HELD,
            held_at=now,
            expires_at=now + HOLD,
        )
        found = transitions.claim_and_hold(
            world.db,
            booking=booking,
            session=session,
            patient_key=patient.id_hash,
            now=now,
            ctx=world.ctx(account),
            by_session=by_session,
        )
        world.db.rollback()
        taken.append(found.slot_id if found else None)
    return taken[0], taken[1]


def test_a_session_on_sale_gives_its_lowest_numbered_open_slot_either_way(world: World) -> None:
    session = push(world)
    lowest = min(world.slots(session), key=lambda s: s.number).id

    assert claims(world, session) == (lowest, lowest)


def test_a_taken_slot_is_skipped_by_session_and_refused_by_slot(world: World) -> None:
    session = push(world)
    ordered = sorted(world.slots(session), key=lambda s: s.number)
    account, patient = world.patient()
    hold(world, account, patient, ordered[0].id)

    assert claims(world, session) == (ordered[1].id, None)


def test_unreleased_closed_and_withdrawn_sessions_are_refused_either_way(world: World) -> None:
    unreleased = push(world, day=UNRELEASED_DAY)
    closed = push(world, day=dt.date(2026, 11, 22))  # 08:00 Shanghai: closed at 07:30
    withdrawn = push(world, day=RELEASED_DAY + dt.timedelta(days=1))
    withdrawn.status = SessionStatus.WITHDRAWN
    world.db.commit()

    for session in (unreleased, closed, withdrawn):
        assert claims(world, session) == (None, None), session.session_date


def test_a_session_whose_release_batch_is_pending_is_refused_either_way(world: World) -> None:
    department, doctor = alike_batch_department(world)
    pending = push(world, department=department, doctor=doctor)
    open_batch(world, pending, rng=random.Random(7))
    on_sale = push(world)

    assert claims(world, pending) == (None, None)
    assert claims(world, on_sale) != (None, None)
