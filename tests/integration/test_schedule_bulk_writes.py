"""A push writes its slots and their ledger rows as plain executemany batches, on SQLite and
PostgreSQL: what is written, how many statements it takes, and that the edge's rollback
still takes all of it back."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from factories.demand import create_channel
from factories.statements import statements
from factories.supply import (
    create_department,
    create_doctor,
    create_hospital,
    import_session,
    push,
    session_spec,
)
from fairslot.bootstrap import Platform
from fairslot.clock import ManualClock
from fairslot.context import RequestContext
from fairslot.db.engine import unit_of_work
from fairslot.hospitals.models import Hospital
from fairslot.ledger import service as ledger
from fairslot.ledger.events import Entry, EventKind
from fairslot.ledger.models import SlotEvent
from fairslot.ledger.replay import replay
from fairslot.schedules import repository as repo
from fairslot.schedules import service as schedules
from fairslot.schedules.formats import ScheduleDocument, SessionSpec
from fairslot.schedules.models import ClinicSession, Slot
from fairslot.schedules.new_slots import Reserving, new_slots
from fairslot.schedules.states import SlotState

RELEASED_DAY = date(2026, 11, 25)  # released on 11-18; the clock starts on 11-22
UNRELEASED_DAY = date(2026, 12, 5)


def _hospital_with_doctor(db: Session) -> tuple[Hospital, list[SessionSpec]]:
    """A hospital with one doctor, and a session spec maker for it."""
    hospital = create_hospital(db)
    department = create_department(db, hospital=hospital)
    doctor = create_doctor(db, hospital=hospital, department=department)
    db.commit()
    return hospital, [
        session_spec(department=department, doctor=doctor, date=RELEASED_DAY + timedelta(days=n))
        for n in range(3)
    ]


def _specs(specs: list[SessionSpec], *, capacity: int) -> list[SessionSpec]:
    """The specs with ``capacity`` slots each, under session ids of their own."""
    return [
        replace(spec, capacity=capacity, his_session_id=f"{spec.his_session_id}-{capacity}")
        for spec in specs
    ]


def test_inserted_slots_read_back_as_the_rows_written(db: Session, clock: ManualClock) -> None:
    hospital = create_hospital(db)
    department = create_department(db, hospital=hospital)
    doctor = create_doctor(db, hospital=hospital, department=department)
    channel, _ = create_channel(db)
    stored = import_session(
        db,
        hospital=hospital,
        department=department,
        doctor=doctor,
        date=UNRELEASED_DAY,
        now=clock.now(),
        capacity=1,
    )
    reopen = clock.now() + timedelta(minutes=20)
    rows = new_slots(
        schedules.pushed_session(stored, hospital_code=hospital.code),
        numbers=range(2, 5),
        reserving=[Reserving(channel_id=channel.id, share=Decimal("0.5"), return_minutes=90)],
        late_reopen_at=lambda: reopen,
    )

    repo.insert_slots(db, slots=rows)
    db.commit()

    read = db.scalars(
        select(Slot).where(Slot.session_id == stored.id, Slot.number > 1).order_by(Slot.number)
    ).all()
    assert [
        (s.id, s.number, s.starts_at, s.ends_at, s.state, s.reopen_at, s.version) for s in read
    ] == [(r.id, r.number, r.starts_at, r.ends_at, r.state, r.reopen_at, r.version) for r in rows]
    assert [(s.reserved_channel_id, s.reserved_until, s.release_logged) for s in read] == [
        (r.reserved_channel_id, r.reserved_until, r.release_logged) for r in rows
    ]
    assert all(s.state == SlotState.COOLING and s.hold_expires_at is None for s in read)
    assert all(s.starts_at.tzinfo is not None for s in read)


def test_record_many_appends_the_rows_in_order_with_the_context_of_the_push(
    db: Session, clock: ManualClock
) -> None:
    hospital, specs = _hospital_with_doctor(db)
    push(db, hospital=hospital, sessions=specs[:1], now=clock.now())
    slot_ids = list(db.scalars(select(Slot.id).order_by(Slot.number)))
    before = db.scalar(select(func.max(SlotEvent.id)))
    ctx = RequestContext(actor="hospital:X", channel_id=None, device_key="dk", ip_label="10.0.0.x")
    at = clock.now() + timedelta(minutes=5)

    written = ledger.record_many(
        db,
        entries=[
            Entry(slot_id=i, kind=EventKind.WITHDRAWN, data={"n": n})
            for n, i in enumerate(slot_ids[:3])
        ],
        at=at,
        recorded_at=at,
        ctx=ctx,
    )
    db.commit()

    rows = db.scalars(select(SlotEvent).where(SlotEvent.id > before).order_by(SlotEvent.id)).all()
    assert written == 3
    assert [(r.slot_id, r.kind, r.data) for r in rows] == [
        (i, EventKind.WITHDRAWN, {"n": n}) for n, i in enumerate(slot_ids[:3])
    ]
    assert {(r.actor, r.device_key, r.ip_label, r.at, r.booking_id) for r in rows} == {
        ("hospital:X", "dk", "10.0.0.x", at, None)
    }


def test_a_push_larger_than_a_write_chunk_writes_every_slot_and_ledger_row_once(
    db: Session, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(schedules, "WRITE_CHUNK", 7)
    hospital, specs = _hospital_with_doctor(db)

    # Pushed after their release: every slot is late supply, pushed then cooling.
    report = push(
        db, hospital=hospital, sessions=_specs(specs, capacity=5), now=clock.now(), on_time=False
    )
    db.commit()

    assert report.created == 3
    slots = db.scalars(select(Slot).order_by(Slot.session_id, Slot.number)).all()
    assert [s.number for s in slots] == [1, 2, 3, 4, 5] * 3
    events = db.scalars(select(SlotEvent).order_by(SlotEvent.id)).all()
    by_slot: dict[str, list[SlotEvent]] = {}
    for event in events:
        by_slot.setdefault(event.slot_id, []).append(event)
    assert set(by_slot) == {s.id for s in slots}
    for slot in slots:
        kinds = [e.kind for e in by_slot[slot.id]]
        assert kinds == [EventKind.PUSHED, EventKind.COOLING]
        replayed = replay((e.kind, e.data) for e in by_slot[slot.id])
        assert (replayed.state, replayed.reopen_at) == (slot.state, slot.reopen_at)


def test_a_push_takes_as_many_statements_for_forty_slots_a_session_as_for_four(
    db: Session, platform: Platform, clock: ManualClock
) -> None:
    create_channel(db, reserved_share=Decimal("0.1"))
    db.commit()
    counts = []
    for capacity in (4, 40):
        hospital, specs = _hospital_with_doctor(db)
        with statements(platform.engine) as sent:
            push(db, hospital=hospital, sessions=_specs(specs, capacity=capacity), now=clock.now())
            db.commit()
        counts.append(len(sent))

    assert counts[0] == counts[1]
    assert db.scalar(select(func.count()).select_from(Slot)) == 3 * 4 + 3 * 40


def test_an_import_its_edge_rolls_back_leaves_no_slot_and_no_ledger_row(
    db: Session, platform: Platform, clock: ManualClock
) -> None:
    hospital, specs = _hospital_with_doctor(db)
    doc = ScheduleDocument(hospital=hospital.code, sessions=tuple(_specs(specs, capacity=20)))

    with (
        pytest.raises(RuntimeError, match="after the import"),
        unit_of_work(platform.sessions) as edge,
    ):
        report = schedules.import_schedule(
            edge, doc=doc, now=clock.now(), ctx=RequestContext(actor="t"), rng=random.Random(1)
        )
        assert report.created == 3
        assert edge.scalar(select(func.count()).select_from(Slot)) == 60
        raise RuntimeError("a failure after the import, before the commit")

    db.commit()  # a fresh snapshot
    assert db.scalar(select(func.count()).select_from(ClinicSession)) == 0
    assert db.scalar(select(func.count()).select_from(Slot)) == 0
    assert db.scalar(select(func.count()).select_from(SlotEvent)) == 0
