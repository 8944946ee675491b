"""Release batches through the services, on SQLite and PostgreSQL, with time travel."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from sqlalchemy import select

from factories.batches import batch_department, entries_of, hold, open_batch, run_worker
from factories.demand import create_account, create_patient, resident_id
from factories.world import UNRELEASED_DAY, World
from fairslot.allocation import modes
from fairslot.allocation.batches import Entered
from fairslot.allocation.errors import ReleaseBatchDrawing
from fairslot.allocation.models import AllocationDecision, Draw
from fairslot.allocation.states import DrawKind, DrawStatus, IntentStatus
from fairslot.allocation.verification import verify
from fairslot.bookings import service as bookings
from fairslot.bookings.models import Booking
from fairslot.bookings.states import BookingStatus
from fairslot.errors import DomainError
from fairslot.notifications.models import Notification
from fairslot.schedules.models import Slot
from fairslot.schedules.states import SlotState

SECOND = dt.timedelta(seconds=1)


@pytest.fixture
def rng() -> random.Random:
    return random.Random(20261122)


def at(world: World, when: dt.datetime) -> None:
    world.platform.clock.set(when)


def notices(world: World, kind: str) -> list[Notification]:
    rows = list(world.db.scalars(select(Notification).where(Notification.kind == kind)))
    world.db.commit()
    return rows


def test_holds_in_the_window_enter_the_batch_and_claim_nothing(
    world: World, rng: random.Random
) -> None:
    department = batch_department(world)
    session = world.session(day=UNRELEASED_DAY, capacity=3, department=department)
    at(world, session.push_at)
    batch = open_batch(world, session, rng=rng)
    assert batch.kind == DrawKind.RELEASE_BATCH and batch.opens_at == session.release_at
    assert batch.due_at == session.release_at + 60 * SECOND
    people = [world.patient() for _ in range(5)]

    at(world, session.release_at + 5 * SECOND)
    made = [hold(world, a, p, session) for a, p in people]

    assert all(isinstance(m, Entered) and m.created for m in made)
    assert len(entries_of(world, batch.id)) == 5
    slots = world.slots(session)
    assert {s.state for s in slots} == {SlotState.OPEN}  # nothing was claimed
    # No shortcut: the ordinary hold cannot claim a slot of a pending batch either.
    account, patient = people[0]
    with pytest.raises(DomainError):
        bookings.hold(
            world.db,
            account_id=account.id,
            patient_id=patient.id,
            slot_id=slots[0].id,
            now=world.now(),
            ctx=world.ctx(account),
            policy=world.policy,
            rng=world.platform.rng,
        )
    world.db.rollback()
    assert {s.state for s in world.slots(session)} == {SlotState.OPEN}


def test_repeated_holds_and_other_accounts_for_one_patient_add_nothing(
    world: World, rng: random.Random
) -> None:
    department = batch_department(world)
    session = world.session(day=UNRELEASED_DAY, capacity=1, department=department)
    at(world, session.push_at)
    batch = open_batch(world, session, rng=rng)
    account, _ = world.patient()
    number = resident_id()
    other = create_account(world.db, world.platform, channel_id=world.channel.id)
    twin_a = create_patient(
        world.db, world.platform, account=account, id_number=number, name="王芳"
    )
    twin_b = create_patient(world.db, world.platform, account=other, id_number=number, name="王芳")
    world.db.commit()
    assert twin_a.id == twin_b.id

    at(world, session.release_at)
    first = hold(world, account, twin_a, session)
    answers = [hold(world, account, twin_a, session, device=f"bot-{n}") for n in range(5)]
    from_other_account = hold(world, other, twin_b, session, device="another-phone")

    assert isinstance(first, Entered) and first.created
    for answer in [*answers, from_other_account]:
        assert isinstance(answer, Entered) and not answer.created
        assert answer.entry.id == first.entry.id
    assert len(entries_of(world, batch.id)) == 1


def test_the_batch_holds_one_slot_per_distinct_patient_and_tells_the_others(
    world: World, rng: random.Random
) -> None:
    department = batch_department(world)
    session = world.session(day=UNRELEASED_DAY, capacity=3, department=department)
    at(world, session.push_at)
    batch = open_batch(world, session, rng=rng)
    people = [world.patient() for _ in range(7)]
    at(world, session.release_at + 2 * SECOND)
    for account, patient in people:
        for _ in range(3):  # repeated requests
            hold(world, account, patient, session)

    at(world, batch.due_at)
    assert run_worker(world) == 1

    entries = entries_of(world, batch.id)
    won = [e for e in entries if e.status == IntentStatus.WON]
    lost = [e for e in entries if e.status == IntentStatus.LOST]
    assert (len(won), len(lost)) == (3, 4), [(e.status, e.reason) for e in entries]
    booked = list(world.db.scalars(select(Booking).where(Booking.session_id == session.id)))
    world.db.commit()
    assert len(booked) == 3 and len({b.patient_id for b in booked}) == 3
    # Held, to be paid within the hold time as any hold (nothing was pre-authorised).
    for booking in booked:
        assert booking.status == BookingStatus.HELD
        assert booking.expires_at == batch.due_at + dt.timedelta(minutes=world.policy.hold_minutes)
    assert {b.id for b in booked} == {e.booking_id for e in won}
    told_won = notices(world, "batch_won")
    assert len(told_won) == 3 and all("pay_by" in n.payload for n in told_won)
    told_lost = notices(world, "batch_lost")
    assert len(told_lost) == 4 and all("alternatives" in n.payload for n in told_lost)
    check = verify(world.db, draw_id=batch.id)
    assert check.verified is True and check.intents == 7
    assert sorted(e.id for e in entries) == [e["intent_id"] for e in check.draw.result["entries"]]


def test_leftovers_sell_first_come_after_the_window_and_not_during_the_drawing(
    world: World, rng: random.Random
) -> None:
    department = batch_department(world)
    session = world.session(day=UNRELEASED_DAY, capacity=5, department=department)
    at(world, session.push_at)
    batch = open_batch(world, session, rng=rng)
    (a1, p1), (a2, p2), (late_account, late) = (world.patient() for _ in range(3))
    at(world, session.release_at + 30 * SECOND)
    hold(world, a1, p1, session)
    hold(world, a2, p2, session)

    # The window has closed, the batch has not run: neither an entry nor a claim.
    at(world, batch.due_at)
    with pytest.raises(ReleaseBatchDrawing):
        hold(world, late_account, late, session)
    world.db.rollback()

    run_worker(world)
    at(world, batch.due_at + SECOND)
    booking = hold(world, late_account, late, session)
    assert isinstance(booking, Booking) and booking.status == BookingStatus.HELD
    states = [s.state for s in world.slots(session)]
    assert states.count(SlotState.HELD) == 3 and states.count(SlotState.OPEN) == 2


def test_a_batch_nobody_entered_is_drawn_empty_and_then_sold(
    world: World, rng: random.Random
) -> None:
    department = batch_department(world)
    session = world.session(day=UNRELEASED_DAY, capacity=2, department=department)
    at(world, session.push_at)
    run_worker(world)  # the worker opens the batch at the push: its commitment is public
    batch = world.db.scalars(select(Draw).where(Draw.department_id == department.id)).one()
    world.db.commit()
    assert batch.kind == DrawKind.RELEASE_BATCH and batch.status == DrawStatus.OPEN
    at(world, batch.due_at)
    assert run_worker(world) == 1
    account, patient = world.patient()
    assert isinstance(hold(world, account, patient, session), Booking)


def test_a_blacklisted_entrant_is_refused_when_blocked_after_entering(
    world: World, rng: random.Random
) -> None:
    from fairslot.allocation import service as allocation
    from fairslot.blacklist.gate import blocked_keys
    from fairslot.blacklist.models import Scope
    from fairslot.blacklist.service import block_key
    from fairslot.staff.audit import cli_actor

    department = batch_department(world)
    session = world.session(day=UNRELEASED_DAY, capacity=2, department=department)
    at(world, session.push_at)
    batch = open_batch(world, session, rng=rng)
    (a1, scalper), (a2, genuine) = world.patient(), world.patient()
    at(world, session.release_at)
    entered = hold(world, a1, scalper, session, device="scalper-phone")
    hold(world, a2, genuine, session)
    assert isinstance(entered, Entered)

    entry = block_key(
        world.db,
        scope=Scope.PATIENT,
        key_hash=scalper.id_hash,
        label="patient",
        reason="confirmed scalper",
        actor=cli_actor("it-admin"),
        now=world.now(),
    )
    refused = allocation.refuse_blocked(
        world.db,
        blocked=blocked_keys([entry]),
        now=world.now(),
        protector=world.platform.protector,
    )
    world.db.commit()
    assert refused == 1
    at(world, batch.due_at)
    run_worker(world)
    statuses = {e.patient_id: e.status for e in entries_of(world, batch.id)}
    assert statuses == {scalper.id: IntentStatus.REFUSED, genuine.id: IntentStatus.WON}


def test_a_clinic_that_sells_out_in_seconds_is_judged_scarce_and_batched(
    world: World, rng: random.Random
) -> None:
    """Four first-come days sold out 3 s after release: the worker judges the department
    scarce, the next release is a batch, and the hospital cannot make it a race."""
    department = world.department_()
    from factories.supply import create_doctor

    create_doctor(world.db, hospital=world.hospital, department=department)
    world.db.commit()
    buyers = [world.patient() for _ in range(8)]
    days = [UNRELEASED_DAY + dt.timedelta(days=d) for d in range(4)]
    for n, day in enumerate(days):
        session = world.session(day=day, capacity=2, department=department)
        at(world, session.release_at + 3 * SECOND)
        for account, patient in buyers[2 * n : 2 * n + 2]:
            hold(world, account, patient, session)
    at(world, world.now() + dt.timedelta(minutes=5))
    run_worker(world)

    world.db.expire_all()
    found = modes.view(
        world.db, department_id=department.id, hospital_id=world.hospital.id, default_seconds=60
    )
    world.db.commit()
    assert found.scarce and found.effective_mode.value == "release_batch"
    verdict = found.latest_verdict
    assert verdict is not None and verdict["sold_out_days"] == 4
    next_day = world.session(
        day=UNRELEASED_DAY + dt.timedelta(days=4), capacity=2, department=department
    )
    with pytest.raises(DomainError) as refused:
        modes.override(
            world.db,
            department_id=department.id,
            hospital_id=world.hospital.id,
            mode=modes.AllocationMode.FIRST_COME,
            actor="hospital:H1",
            now=world.now(),
        )
    world.db.rollback()
    assert refused.value.code == "scarce_release_cannot_race"
    at(world, next_day.release_at)
    account, patient = world.patient()
    assert isinstance(hold(world, account, patient, next_day), Entered)
    decisions = list(world.db.scalars(select(AllocationDecision)))
    world.db.commit()
    assert any(d.kind == "scarcity_verdict" and d.scarce for d in decisions)


def test_slots_are_never_claimed_twice_across_batch_and_first_come(
    world: World, rng: random.Random
) -> None:
    department = batch_department(world)
    session = world.session(day=UNRELEASED_DAY, capacity=2, department=department)
    at(world, session.push_at)
    batch = open_batch(world, session, rng=rng)
    people = [world.patient() for _ in range(4)]
    at(world, session.release_at)
    for account, patient in people:
        hold(world, account, patient, session)
    at(world, batch.due_at)
    run_worker(world)
    at(world, batch.due_at + SECOND)
    account, patient = world.patient()
    with pytest.raises(DomainError) as full:
        hold(world, account, patient, session)
    world.db.rollback()
    assert full.value.code == "session_full"
    held = world.db.scalars(select(Slot).where(Slot.session_id == session.id)).all()
    world.db.commit()
    assert {s.state for s in held} == {SlotState.HELD}


def test_fairslot_draw_verify_re_runs_a_batch_from_the_database_and_from_its_json(
    world: World, rng: random.Random, database_url: str, tmp_path
) -> None:
    import json

    from fastapi.testclient import TestClient
    from typer.testing import CliRunner

    from fairslot.api.app import create_app
    from fairslot.cli.main import app

    department = batch_department(world)
    session = world.session(day=UNRELEASED_DAY, capacity=2, department=department)
    at(world, session.push_at)
    batch = open_batch(world, session, rng=rng)
    at(world, session.release_at + SECOND)
    for account, patient in [world.patient() for _ in range(5)]:
        hold(world, account, patient, session)
    at(world, batch.due_at)
    run_worker(world)
    runner = CliRunner()
    env = {"FAIRSLOT_DATABASE_URL": database_url}

    checked = runner.invoke(app, ["draw", "verify", str(batch.id), "--json"], env=env)
    assert checked.exit_code == 0, checked.output
    shown = json.loads(checked.output)
    assert shown["verified"] is True and shown["intents"] == 5
    assert sum(1 for slot in shown["recomputed"].values() if slot) == 2

    with TestClient(create_app(world.platform)) as client:
        published = client.get(
            f"/v1/draws/{batch.id}", headers={"X-Channel-Key": world.channel_key}
        )
    assert published.status_code == 200 and published.json()["kind"] == "release_batch"
    path = tmp_path / "batch.json"
    path.write_text(published.text)
    offline = runner.invoke(app, ["draw", "verify", "--from-json", str(path)], env=env)
    assert offline.exit_code == 0, offline.output
    tampered = published.json()
    first, second = sorted(tampered["assignment"])[:2]
    tampered["assignment"][first], tampered["assignment"][second] = (
        tampered["assignment"][second],
        tampered["assignment"][first],
    )
    if tampered["assignment"][first] == tampered["assignment"][second]:
        tampered["assignment"][first] = "not-a-slot"
    path.write_text(json.dumps(tampered))
    assert runner.invoke(app, ["draw", "verify", "--from-json", str(path)], env=env).exit_code == 1


def test_a_ring_entering_a_batch_is_held_out_by_the_pre_draw_screening(
    world: World, rng: random.Random
) -> None:
    """The batch goes through the draw's screening: one phone serving many accounts is a
    ring, held out of the draw for review; the genuine entrant is drawn."""
    department = batch_department(world)
    session = world.session(day=UNRELEASED_DAY, capacity=2, department=department)
    at(world, session.push_at)
    batch = open_batch(world, session, rng=rng)
    ring = [world.patient() for _ in range(4)]
    account, genuine = world.patient()
    at(world, session.release_at + SECOND)
    for ring_account, patient in ring:
        hold(world, ring_account, patient, session, device="ring-phone")
    hold(world, account, genuine, session)
    at(world, batch.due_at)
    run_worker(world)

    statuses = {e.patient_id: e.status for e in entries_of(world, batch.id)}
    assert statuses[genuine.id] == IntentStatus.WON
    assert {statuses[p.id] for _, p in ring} == {IntentStatus.HELD}
    check = verify(world.db, draw_id=batch.id)
    assert check.verified is True and len(check.draw.result["held_out"]) == 4
