"""Release draws through the services, on SQLite and PostgreSQL, with time travel."""

from __future__ import annotations

import datetime as dt
import json
import random
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from factories.bookings import hold
from factories.demand import create_account, create_patient, resident_id
from factories.draw_entries import draw_world, register, run_worker
from factories.world import UNRELEASED_DAY, World
from fairslot.allocation import rules, shuffle
from fairslot.allocation import service as allocation
from fairslot.allocation.models import Intent
from fairslot.allocation.states import AllocationMode, DrawStatus, IntentStatus
from fairslot.allocation.verification import verify
from fairslot.allocation.worker import run_due_draws
from fairslot.availability import service as availability
from fairslot.bookings import repository as booking_repo
from fairslot.bookings.states import BookingStatus
from fairslot.cli.main import app
from fairslot.db.engine import unit_of_work
from fairslot.errors import DomainError
from fairslot.hospitals import service as hospitals
from fairslot.hospitals.kinds import DoctorTitle
from fairslot.hospitals.schemas import DepartmentIn
from fairslot.ledger import repository as ledger_repo
from fairslot.ledger.events import EventKind
from fairslot.notifications.models import Notification
from fairslot.schedules.models import ClinicSession

MIN = dt.timedelta(minutes=1)
THREADS = 8


@pytest.fixture
def world(db, platform) -> World:
    return draw_world(db, platform)


def intent(world: World, account, patient, *, session: ClinicSession | None = None, **target):
    """An entry for ``session`` (else ``target``) from the patient's own device and card,
    on the one Wi-Fi."""
    place = session if session is not None else allocation.IntentTarget(**target)
    return register(world, account, patient, place, device=f"dev-{patient.id}", wifi="ap-1")


def refused(world: World, code: str, fn, *args, **kwargs) -> None:
    with pytest.raises(DomainError) as info:
        fn(*args, **kwargs)
    world.db.rollback()
    assert info.value.code == code, info.value.detail


def in_window(world: World, session: ClinicSession) -> None:
    world.platform.clock.set(session.push_at + MIN)


def at_release(world: World, session: ClinicSession) -> None:
    world.platform.clock.set(session.release_at)


def intents_of(world: World, draw_id: int) -> list[Intent]:
    world.db.expire_all()
    return list(world.db.scalars(select(Intent).where(Intent.draw_id == draw_id)))


def free_count(world: World, session: ClinicSession) -> int:
    views = availability.availability(
        world.db,
        department_id=session.department_id,
        date_from=session.session_date,
        date_to=session.session_date,
        title=None,
        now=world.now(),
        channel_id=world.channel.id,
    )
    world.db.commit()
    return sum(v.free for v in views if v.session_id == session.id)


def test_the_draw_books_winners_tells_losers_and_sells_the_rest(world: World) -> None:
    session = world.session(day=UNRELEASED_DAY, capacity=3)
    people = [world.patient() for _ in range(5)]
    in_window(world, session)
    made = [intent(world, a, p, session=session)[0] for a, p in people]
    draw = allocation.get_draw(world.db, draw_id=made[0].draw_id)
    assert draw.status == DrawStatus.OPEN and draw.seed is None and len(draw.seed_commitment) == 64
    assert draw.due_at == session.release_at

    # Released, but not drawn yet: nobody can hold a slot or see one.
    at_release(world, session)
    slots = world.slots(session)
    refused(world, "slot_taken", hold, world, *world.patient(), slots[0].id)
    assert free_count(world, session) == 0

    report = run_worker(world)
    assert report.drawn == 1
    decided = {i.id: i for i in intents_of(world, draw.id)}
    won = [i for i in decided.values() if i.status == IntentStatus.WON]
    lost = [i for i in decided.values() if i.status == IntentStatus.LOST]
    assert len(won) == 3 and len(lost) == 2
    for i in won:
        booking = booking_repo.get_booking(world.db, i.booking_id)
        assert booking is not None and booking.status == BookingStatus.BOOKED
        assert (
            booking.patient_id == i.patient_id
            and booking.payment_reference == f"pre-{i.patient_id}"
        )
        events = ledger_repo.history(world.db, booking.slot_id)
        assert [e.kind for e in events][-2:] == [EventKind.HELD, EventKind.BOOKED]
        assert {e.actor for e in events[-2:]} == {f"draw:{draw.id}"}
        assert (
            events[-1].device_key == world.device_key(f"dev-{i.patient_id}")
            and events[-1].payment_account_hash
        )
    notes = world.db.scalars(
        select(Notification).where(Notification.kind.in_(["draw_won", "draw_lost"]))
    ).all()
    assert sorted(n.payload["intent_id"] for n in notes) == sorted(decided)
    assert {n.payload["intent_id"] for n in notes if n.kind == "draw_lost"} == {i.id for i in lost}
    assert all(n.booking_id for n in notes if n.kind == "draw_won")
    assert all("alternatives" in n.payload for n in notes if n.kind == "draw_lost")

    check = verify(world.db, draw_id=draw.id)
    assert check.verified is True
    assert check.draw.seed and rules.commitment(check.draw.seed) == draw.seed_commitment


def test_slots_left_after_the_draw_go_on_open_sale(world: World) -> None:
    session = world.session(day=UNRELEASED_DAY, capacity=3)
    a, p = world.patient()
    in_window(world, session)
    intent(world, a, p, session=session)
    at_release(world, session)
    run_worker(world)
    assert free_count(world, session) == 2
    late_account, late = world.patient()
    free = [s for s in world.slots(session) if s.state.value == "open"]
    assert hold(world, late_account, late, free[0].id).status == BookingStatus.HELD


def test_a_day_nobody_registered_for_is_drawn_empty_then_sold(world: World) -> None:
    session = world.session(day=UNRELEASED_DAY, capacity=2)
    at_release(world, session)
    assert free_count(world, session) == 0
    report = run_worker(world)
    assert (report.opened, report.drawn) == (1, 1)
    assert free_count(world, session) == 2


def test_repeated_and_parallel_intents_of_one_patient_collapse(world: World) -> None:
    session = world.session(day=UNRELEASED_DAY, capacity=1)
    account, patient = world.patient()
    in_window(world, session)
    first, created = intent(world, account, patient, session=session)
    again, created_again = intent(world, account, patient, session=session)
    assert created and not created_again and again.id == first.id

    # The same person through a second account (another phone, even another channel).
    number = resident_id()
    other = create_account(world.db, world.platform, channel_id=world.channel.id)
    twin_a = create_patient(
        world.db, world.platform, account=account, id_number=number, name="王芳"
    )
    twin_b = create_patient(world.db, world.platform, account=other, id_number=number, name="王芳")
    world.db.commit()
    assert twin_a.id == twin_b.id
    one, _ = intent(world, account, twin_a, session=session)
    two, created_two = intent(world, other, twin_b, session=session)
    assert two.id == one.id and not created_two
    assert len(intents_of(world, first.draw_id)) == 2


def test_intents_are_taken_only_inside_the_window(world: World) -> None:
    session = world.session(day=UNRELEASED_DAY, capacity=1)
    account, patient = world.patient()
    world.platform.clock.set(session.push_at - MIN)
    refused(world, "session_not_found", intent, world, account, patient, session=session)
    at_release(world, session)
    refused(world, "intent_window_closed", intent, world, account, patient, session=session)


def test_a_first_come_department_takes_no_intents(world: World) -> None:
    plain = world.department_()
    session = world.session(day=UNRELEASED_DAY, department=plain)
    account, patient = world.patient()
    in_window(world, session)
    refused(world, "not_a_draw_session", intent, world, account, patient, session=session)


def test_a_title_intent_wins_any_session_of_that_title(world: World) -> None:
    session = world.session(day=UNRELEASED_DAY, capacity=1)
    account, patient = world.patient()
    in_window(world, session)
    found, _ = intent(
        world,
        account,
        patient,
        department_id=world.department.id,
        session_date=UNRELEASED_DAY,
        title=DoctorTitle.CHIEF,
    )
    at_release(world, session)
    run_worker(world)
    world.db.expire_all()
    assert world.db.get(Intent, found.id).status == IntentStatus.WON


def test_a_withdrawn_intent_is_not_drawn(world: World) -> None:
    session = world.session(day=UNRELEASED_DAY, capacity=1)
    account, patient = world.patient()
    in_window(world, session)
    found, _ = intent(world, account, patient, session=session)
    allocation.withdraw_intent(
        world.db, intent_id=found.id, account_id=account.id, now=world.now(), ctx=world.ctx(account)
    )
    world.db.commit()
    at_release(world, session)
    run_worker(world)
    world.db.expire_all()
    assert world.db.get(Intent, found.id).status == IntentStatus.WITHDRAWN
    assert free_count(world, session) == 1


def test_an_intent_a_booking_rule_refuses_at_draw_time_is_refused(world: World) -> None:
    session = world.session(day=UNRELEASED_DAY, capacity=2)
    (a1, p1), (a2, p2) = world.patient(), world.patient()
    in_window(world, session)
    busy, _ = intent(world, a1, p1, session=session)
    other, _ = intent(world, a2, p2, session=session)
    # At release, p1 books two first-come sessions that day: the daily limit is reached.
    for _ in range(2):
        dep = world.department_()
        plain = world.session(day=UNRELEASED_DAY, department=dep)
        at_release(world, session)
        hold(world, a1, p1, world.slots(plain)[0].id)
    at_release(world, session)
    run_worker(world)
    world.db.expire_all()
    got = {i.id: i for i in intents_of(world, busy.draw_id)}
    assert got[busy.id].status == IntentStatus.REFUSED and got[busy.id].reason == "daily_limit"
    assert got[other.id].status == IntentStatus.WON
    check = verify(world.db, draw_id=busy.draw_id)
    assert check.verified is True
    assert check.draw.result["refused"] == [busy.id]  # published with the rule that refused it
    assert check.draw.result["reasons"] == {busy.id: "daily_limit"}
    assert free_count(world, session) == 1  # the refused intent's slot went on sale


def test_a_draw_due_while_the_worker_was_down_runs_later_with_the_same_result(
    world: World,
) -> None:
    session = world.session(day=UNRELEASED_DAY, capacity=2)
    people = [world.patient() for _ in range(6)]
    in_window(world, session)
    made = [intent(world, a, p, session=session)[0] for a, p in people]
    draw = allocation.get_draw(world.db, draw_id=made[0].draw_id)
    seed = world.platform.protector.decrypt(draw.seed_encrypted)
    slots = world.slots(session)
    assert draw.algorithm == shuffle.CURRENT  # fixed when the draw was opened
    expected = rules.draw(
        seed=seed,
        algorithm=shuffle.CURRENT,
        entries=[
            rules.Entry(i.id, session_id=session.id, channel_id=world.channel.id) for i in made
        ],
        slots=[rules.FreeSlot(s.id, session.id, s.number, "chief") for s in slots],
    )
    world.platform.clock.set(session.release_at + dt.timedelta(hours=5))
    run_worker(world)
    assert run_worker(world).drawn == 0  # once only
    got = {i.id: i.booking_id for i in intents_of(world, draw.id)}
    for intent_id, slot_id in expected.items():
        booking = booking_repo.get_booking(world.db, got[intent_id]) if got[intent_id] else None
        assert (booking.slot_id if booking else None) == slot_id


def test_fairslot_draw_verify_rechecks_a_draw_from_the_command_line(
    world: World, database_url: str
) -> None:
    session = world.session(day=UNRELEASED_DAY, capacity=1)
    people = [world.patient() for _ in range(3)]
    in_window(world, session)
    made = [intent(world, a, p, session=session)[0] for a, p in people]
    runner = CliRunner()
    env = {"FAIRSLOT_DATABASE_URL": database_url}

    before = runner.invoke(app, ["draw", "verify", str(made[0].draw_id), "--json"], env=env)
    assert before.exit_code == 0, before.output
    assert json.loads(before.output)["verified"] is None

    at_release(world, session)
    run_worker(world)
    after = runner.invoke(app, ["draw", "verify", str(made[0].draw_id), "--json"], env=env)
    assert after.exit_code == 0, after.output
    shown = json.loads(after.output)
    assert shown["verified"] is True and shown["intents"] == 3
    assert sum(1 for slot in shown["recomputed"].values() if slot) == 1
    by_session = runner.invoke(
        app, ["draw", "verify", "--session", str(session.id), "--json"], env=env
    )
    assert by_session.exit_code == 0, by_session.output
    assert json.loads(by_session.output)["draw_id"] == made[0].draw_id
    missing = runner.invoke(app, ["draw", "verify", "999999"], env=env)
    assert missing.exit_code == 1


def test_parallel_intents_of_one_patient_and_parallel_workers_each_count_once(
    world: World,
) -> None:
    session = world.session(day=UNRELEASED_DAY, capacity=2)
    account, patient = world.patient()
    others = [world.patient() for _ in range(3)]
    in_window(world, session)
    for a, p in others:  # the draw exists; the race is on the patient's intent
        intent(world, a, p, session=session)
    barrier = threading.Barrier(THREADS)

    def register(n: int) -> str:
        with unit_of_work(world.platform.sessions) as db:
            barrier.wait(timeout=10)
            found, _ = allocation.register_intent(
                db,
                account_id=account.id,
                patient_id=patient.id,
                target=allocation.IntentTarget(session_id=session.id),
                payment_account="6222020000001234",
                payment_reference="pre-x",
                now=world.now(),
                ctx=world.ctx(account, device_id=f"bot-{n}"),
                policy=world.policy,
                protector=world.platform.protector,
            )
            return found.id

    with ThreadPoolExecutor(THREADS) as pool:
        ids = set(pool.map(register, range(THREADS)))
    assert len(ids) == 1
    draws = {i.draw_id for i in world.db.scalars(select(Intent)).all()}
    assert len(draws) == 1
    (the_draw,) = draws
    assert len(intents_of(world, the_draw)) == 4

    at_release(world, session)
    world.db.commit()
    workers = threading.Barrier(2)

    def work(_: int) -> int:
        with unit_of_work(world.platform.sessions) as db:
            workers.wait(timeout=10)
            return run_due_draws(
                db,
                now=world.now(),
                policy=world.policy,
                rng=random.Random(),
                protector=world.platform.protector,
                desk=world.platform.screening_desk,
            ).drawn

    with ThreadPoolExecutor(2) as pool:
        assert sorted(pool.map(work, range(2))) == [0, 1]
    statuses = [i.status for i in intents_of(world, the_draw)]
    assert statuses.count(IntentStatus.WON) == 2 and statuses.count(IntentStatus.LOST) == 2


def test_a_later_push_without_allocation_mode_keeps_the_draw(world: World) -> None:
    spec = DepartmentIn(code=world.department.code, name="专家门诊", specialty="internal")
    department, _ = hospitals.upsert_department(world.db, hospital=world.hospital, spec=spec)
    world.db.commit()
    assert department.allocation_mode == AllocationMode.DRAW
