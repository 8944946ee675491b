"""Follow-up calls through the services, on SQLite and PostgreSQL: the daily sample,
claiming calls, outcomes, and a case coming back to the queue with its outcomes."""

from __future__ import annotations

import datetime as dt
import random
from zoneinfo import ZoneInfo

from sqlalchemy import select

from factories.review import LOCK, ask_for_calls, refused, staff
from factories.risk import book_for_patients, payment_case
from factories.world import World
from fairslot.bookings import service as bookings
from fairslot.cases import calls as case_calls
from fairslot.cases import review
from fairslot.cases.models import Case, CaseEvent
from fairslot.cases.states import CaseEventKind, CaseStatus
from fairslot.channels.models import ChannelKind
from fairslot.followup import service as calls
from fairslot.followup.models import CallTask
from fairslot.followup.states import CallOutcome, CallReason, CallStatus
from fairslot.staff.audit import StaffActor, cli_actor
from fairslot.staff.models import StaffAction
from fairslot.staff.roles import Role

TZ = "Asia/Shanghai"
DAY = dt.date(2026, 11, 22)  # START is 2026-11-22 08:00 in Shanghai


def sample(world: World, *, day=DAY, rate=1.0, limit=100, seed=7):
    report = calls.sample(
        world.db,
        day=day,
        rate=rate,
        limit=limit,
        rng=random.Random(seed),
        now=world.now(),
        tz=TZ,
        actor=cli_actor("scheduler"),
    )
    world.db.commit()
    return report


def sampled_bookings(world: World) -> set[str]:
    rows = world.db.scalars(
        select(CallTask.booking_id).where(CallTask.reason == CallReason.SAMPLE)
    ).all()
    world.db.commit()
    return set(rows)


def test_the_sample_takes_only_that_local_days_confirmed_bookings_once(world: World) -> None:
    that_day = book_for_patients(world, patients=3)
    # A hold never paid, and a booking paid then cancelled: not confirmed bookings that stand.
    account, patient = world.patient()
    slot = world.slots(world.session(capacity=2))[0]
    held = bookings.hold(
        world.db,
        account_id=account.id,
        patient_id=patient.id,
        slot_id=slot.id,
        now=world.now(),
        ctx=world.ctx(account),
        policy=world.policy,
        rng=world.platform.rng,
    )
    cancelled = book_for_patients(world, patients=1)
    bookings.cancel(
        world.db,
        booking_id=cancelled.bookings[0].id,
        account_id=cancelled.account.id,
        now=world.now(),
        ctx=world.ctx(cancelled.account),
        channel_kind=ChannelKind.WECHAT,
        policy=world.policy,
        rng=world.platform.rng,
    )
    world.db.commit()
    # 17:00 UTC is 01:00 the next day in Shanghai: not this local day.
    world.platform.clock.set(dt.datetime(2026, 11, 22, 17, 0, tzinfo=dt.UTC))
    next_day = book_for_patients(world, patients=2)

    first = sample(world)
    again = sample(world)

    assert sampled_bookings(world) == set(that_day.booking_ids)
    assert held.id not in sampled_bookings(world)
    assert (first.confirmed, len(first.created)) == (3, 3)
    assert (again.already_sampled, again.created) == (3, [])
    tasks = world.db.scalars(select(CallTask)).all()
    assert {t.dedupe_key for t in tasks} == {f"sample:{b}" for b in that_day.booking_ids}
    assert {(t.status, t.case_id) for t in tasks} == {(CallStatus.PENDING, None)}
    assert sample(world, day=DAY + dt.timedelta(days=1)).confirmed == len(next_day.bookings)


def test_the_sample_size_follows_the_rate_and_the_limit(world: World) -> None:
    book_for_patients(world, patients=4)
    book_for_patients(world, patients=4)
    assert len(sample(world, rate=0.25, limit=100).created) == 2  # ceil(8 x 0.25)
    assert sample(world, rate=0.25, limit=100).created == []
    assert len(sample(world, rate=1.0, limit=5).created) == 3  # topped up to the limit
    assert len(sampled_bookings(world)) == 5
    runs = world.db.scalars(select(StaffAction).where(StaffAction.action == "calls.sample")).all()
    assert len(runs) == 3 and runs[0].actor == "cli:scheduler"


def test_the_calls_loop_sends_the_case_back_to_the_queue_with_the_outcomes(
    world: World,
) -> None:
    wang = staff(world, "wang", Role.REVIEWER)
    zhao = staff(world, "zhao", Role.CUSTOMER_SERVICE)
    op = book_for_patients(world, patients=3)
    sample(world)  # routine calls wait too, but a case's calls come first
    case = payment_case(world, op)
    review.take_next(world.db, actor=wang, now=world.now(), lock_minutes=LOCK)
    ask_for_calls(world, case_id=case.id, actor=wang, question="Who booked this visit for you?")
    world.db.commit()

    outcomes = [CallOutcome.SUSPICIOUS, CallOutcome.UNREACHABLE, CallOutcome.SUSPICIOUS]
    for n, outcome in enumerate(outcomes):
        task = calls.take_next(world.db, actor=zhao, now=world.now(), lock_minutes=LOCK)
        assert task.reason == CallReason.FLAGGED and task.case_id == case.id
        case_calls.record_outcome(
            world.db,
            task_id=task.id,
            outcome=outcome,
            note=f"call {n}: does not know the doctor",
            actor=zhao,
            now=world.now(),
        )
        world.db.commit()
        status = world.db.get(Case, case.id).status
        assert status == (CaseStatus.OPEN if n == 2 else CaseStatus.AWAITING_CALL)

    kinds = world.db.scalars(
        select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)
    ).all()
    assert [e.kind.value for e in kinds][-5:] == [
        "call_requested",
        "call_outcome",
        "call_outcome",
        "call_outcome",
        "calls_done",
    ]
    assert kinds[-1].data == {"outcomes": {"suspicious": 2, "unreachable": 1}}
    assert kinds[-1].actor == "zhao"
    # Back in the queue: the reviewer takes it again and sees the outcomes.
    again = review.take_next(world.db, actor=wang, now=world.now(), lock_minutes=LOCK)
    assert again.id == case.id
    evidence = review.view(
        world.db,
        case_id=case.id,
        actor=wang,
        now=world.now(),
        protector=world.platform.protector,
        tz=ZoneInfo(TZ),
    )
    assert sorted(c.outcome or "" for c in evidence.calls) == [
        "suspicious",
        "suspicious",
        "unreachable",
    ]
    assert all(c.note and c.question == "Who booked this visit for you?" for c in evidence.calls)
    # Each patient is called once per case.
    code = refused(
        review.request_calls,
        world.db,
        case_id=case.id,
        question="again?",
        actor=wang,
        now=world.now(),
        protector=world.platform.protector,
    )
    assert code == "calls_already_made"
    audit = world.db.scalars(
        select(StaffAction.action).where(StaffAction.target_kind == "call")
    ).all()
    assert audit.count("call.take") == 3 and audit.count("call.outcome") == 3


def test_a_call_is_the_agents_until_the_claim_lapses(world: World) -> None:
    zhao = staff(world, "zhao", Role.CUSTOMER_SERVICE)
    qian = staff(world, "qian", Role.CUSTOMER_SERVICE)
    book_for_patients(world, patients=1)
    sample(world)
    task = calls.take_next(world.db, actor=zhao, now=world.now(), lock_minutes=LOCK)
    world.db.commit()
    assert refused(calls.take_next, world.db, actor=qian, now=world.now(), lock_minutes=LOCK) == (
        "queue_empty"
    )
    outcome = {"outcome": CallOutcome.GENUINE, "note": None, "now": world.now()}
    assert refused(case_calls.record_outcome, world.db, task_id=task.id, actor=qian, **outcome) == (
        "call_not_yours"
    )
    world.platform.clock.advance(dt.timedelta(minutes=LOCK))
    late = {**outcome, "now": world.now()}
    assert refused(case_calls.record_outcome, world.db, task_id=task.id, actor=zhao, **late) == (
        "call_lock_lapsed"
    )
    world.db.rollback()

    retaken = calls.take_next(world.db, actor=qian, now=world.now(), lock_minutes=LOCK)
    world.db.commit()
    assert retaken.id == task.id and retaken.assigned_to == qian.staff_id
    case_calls.record_outcome(world.db, task_id=task.id, actor=qian, **late)
    world.db.commit()
    assert refused(case_calls.record_outcome, world.db, task_id=task.id, actor=qian, **late) == (
        "call_done"
    )
    done = world.db.get(CallTask, task.id)
    assert (done.status, done.outcome, done.done_at) == (
        CallStatus.DONE,
        CallOutcome.GENUINE,
        world.now(),
    )


def test_only_the_agent_holding_a_call_sees_the_phone_and_that_view_is_audited(
    world: World,
) -> None:
    zhao = staff(world, "zhao", Role.CUSTOMER_SERVICE)
    qian = staff(world, "qian", Role.CUSTOMER_SERVICE)
    op = book_for_patients(world, patients=1)
    sample(world)
    task = calls.take_next(world.db, actor=zhao, now=world.now(), lock_minutes=LOCK)
    phone = world.platform.protector.decrypt(op.patients[0].phone_encrypted)

    def view(who: StaffActor):
        out = calls.view(
            world.db,
            task=task,
            actor=who,
            now=world.now(),
            protector=world.platform.protector,
            tz=ZoneInfo(TZ),
        )
        world.db.commit()
        return out

    mine, theirs = view(zhao), view(qian)

    assert (mine.patient.phone, mine.patient.phone_in_full) == (phone, True)
    assert theirs.patient.phone_in_full is False and phone not in theirs.patient.phone
    assert theirs.patient.phone.endswith(phone[-4:]) and "****" in theirs.patient.phone
    assert mine.patient.name == world.platform.protector.decrypt(op.patients[0].name_encrypted)
    assert mine.booking is not None and mine.booking.booking_id == op.booking_ids[0]
    assert mine.booking.department == world.department.name
    assert mine.booking.booked_at.utcoffset() == dt.timedelta(hours=8)
    viewed = world.db.scalars(
        select(StaffAction).where(StaffAction.action == "call.view_phone")
    ).all()
    assert [(a.actor, a.target_id) for a in viewed] == [("zhao", str(task.id))]


def test_an_agent_may_put_a_call_back(world: World) -> None:
    zhao = staff(world, "zhao", Role.CUSTOMER_SERVICE)
    book_for_patients(world, patients=1)
    sample(world)
    task = calls.take_next(world.db, actor=zhao, now=world.now(), lock_minutes=LOCK)
    calls.release(world.db, task_id=task.id, actor=zhao, now=world.now())
    world.db.commit()
    back = world.db.get(CallTask, task.id)
    assert (back.status, back.assigned_to, back.locked_until) == (CallStatus.PENDING, None, None)
    assert refused(calls.release, world.db, task_id=task.id, actor=zhao, now=world.now()) == (
        "call_not_taken"
    )
    assert refused(calls.release, world.db, task_id=999, actor=zhao, now=world.now()) == (
        "call_not_found"
    )


def test_a_case_event_records_each_outcome_of_its_calls(world: World) -> None:
    wang = staff(world, "wang", Role.REVIEWER)
    zhao = staff(world, "zhao", Role.CUSTOMER_SERVICE)
    op = book_for_patients(world, patients=2)
    case = payment_case(world, op)
    review.take_next(world.db, actor=wang, now=world.now(), lock_minutes=LOCK)
    ask_for_calls(world, case_id=case.id, actor=wang, question="q")
    task = calls.take_next(world.db, actor=zhao, now=world.now(), lock_minutes=LOCK)
    case_calls.record_outcome(
        world.db,
        task_id=task.id,
        outcome=CallOutcome.GENUINE,
        note="knows the doctor",
        actor=zhao,
        now=world.now(),
    )
    world.db.commit()
    event = world.db.scalars(
        select(CaseEvent).where(CaseEvent.kind == CaseEventKind.CALL_OUTCOME)
    ).one()
    assert event.data == {
        "task": task.id,
        "patient_id": task.patient_id,
        "outcome": "genuine",
        "note": "knows the doctor",
    }
    assert world.db.get(Case, case.id).status == CaseStatus.AWAITING_CALL
