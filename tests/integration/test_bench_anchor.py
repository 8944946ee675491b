"""The hand-written anchor (``bench/anchor.py``) claims a slot once, books it and writes
its ledger row, in one transaction; and the bench's checks, read from the database,
see exactly what it wrote — and a double holder forced in behind its back."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import insert
from sqlalchemy.orm import Session

from factories.world import World, make_world
from fairslot.bench import repository as bench_repo
from fairslot.bench.anchor import claim
from fairslot.bench.checks import check
from fairslot.bookings import repository as booking_repo
from fairslot.bootstrap import Platform
from fairslot.ledger.events import EventKind
from fairslot.ledger.models import SlotEvent
from fairslot.schedules.states import SlotState


@pytest.fixture
def world(db: Session, platform: Platform) -> World:
    return make_world(db, platform)


def _checks(world: World, session_id: int):  # type: ignore[no-untyped-def]
    world.db.expire_all()
    ids = [session_id]
    return check(
        occupying=bench_repo.occupying(world.db, session_ids=ids),
        slots_per_session=bench_repo.slots_per_session(world.db, session_ids=ids),
        ledger=bench_repo.ledger(world.db, session_ids=ids),
    )


def test_the_anchor_claims_a_slot_once_and_books_and_ledgers_it(
    world: World, platform: Platform
) -> None:
    session = world.session(capacity=2)
    slot = world.slots(session)[0]
    account, patient = world.patient()
    other_account, other = world.patient()
    world.db.commit()

    booking = claim(
        platform.engine, slot=slot.id, account=account.id, patient=patient.id,
        channel=world.channel.id,
    )  # fmt: skip
    again = claim(
        platform.engine, slot=slot.id, account=other_account.id, patient=other.id,
        channel=world.channel.id,
    )  # fmt: skip

    assert booking is not None and again is None
    world.db.expire_all()
    fresh = booking_repo.get_slot(world.db, slot.id)
    assert fresh is not None and fresh.state == SlotState.HELD
    occupying = bench_repo.occupying(world.db, session_ids=[session.id])
    assert [(b.booking_id, b.patient_id) for b in occupying] == [(booking, patient.id)]
    assert [(r.kind, r.booking_id) for r in bench_repo.ledger(world.db, session_ids=[session.id])
            if r.slot_id == slot.id][-1] == (EventKind.HELD, booking)  # fmt: skip
    report = _checks(world, session.id)
    assert (report.oversold, report.double_booked, report.ledger_disagrees) == (0, 0, 0)


def test_the_checks_find_a_second_holder_written_into_the_ledger(
    world: World, platform: Platform
) -> None:
    session = world.session(capacity=1)
    slot = world.slots(session)[0]
    account, patient = world.patient()
    world.db.commit()
    booking = claim(
        platform.engine, slot=slot.id, account=account.id, patient=patient.id,
        channel=world.channel.id,
    )  # fmt: skip
    assert booking is not None
    now = datetime.now(UTC)
    world.db.execute(
        insert(SlotEvent).values(
            slot_id=slot.id, kind=EventKind.HELD, at=now, recorded_at=now, actor="test",
            booking_id="someone-else", data={},
        )
    )  # fmt: skip
    world.db.commit()

    report = _checks(world, session.id)
    assert report.ledger_double_holders == 1 and report.double_booked == 1
    assert report.ledger_disagrees == 1  # the ledger's last holder is not the stored booking
