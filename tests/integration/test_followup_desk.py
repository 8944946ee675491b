"""The console's call desk through the services, on SQLite and PostgreSQL: the masked
call page, revealing the phone on purpose (audited, for the agent holding the call only),
and the agent's lists."""

from __future__ import annotations

import datetime as dt
import random
from zoneinfo import ZoneInfo

from sqlalchemy import select

from factories.review import LOCK, refused, staff
from factories.risk import book_for_patients
from factories.world import World
from fairslot.cases.calls import record_outcome
from fairslot.followup import service as calls
from fairslot.followup.schemas import CallDesk
from fairslot.followup.states import CallOutcome, CallStatus
from fairslot.staff.audit import StaffActor, cli_actor
from fairslot.staff.models import StaffAction
from fairslot.staff.roles import Role

TZ = ZoneInfo("Asia/Shanghai")


def sample_all(world: World) -> list[int]:
    report = calls.sample(
        world.db,
        day=dt.date(2026, 11, 22),
        rate=1.0,
        limit=100,
        rng=random.Random(7),
        now=world.now(),
        tz=TZ.key,
        actor=cli_actor("scheduler"),
    )
    world.db.commit()
    return report.created


def phone_reads(world: World) -> list[tuple[str, str, str]]:
    rows = world.db.scalars(
        select(StaffAction)
        .where(StaffAction.action.in_(["call.reveal_phone", "call.view_phone"]))
        .order_by(StaffAction.id)
    ).all()
    world.db.commit()
    return [(r.action, r.actor, r.target_id) for r in rows]


def test_the_phone_is_revealed_only_to_the_agent_holding_the_call_and_each_reveal_is_audited(
    world: World,
) -> None:
    zhao = staff(world, "zhao", Role.CUSTOMER_SERVICE)
    qian = staff(world, "qian", Role.CUSTOMER_SERVICE)
    op = book_for_patients(world, patients=1)
    sample_all(world)
    task = calls.take_next(world.db, actor=zhao, now=world.now(), lock_minutes=LOCK)
    world.db.commit()
    phone = world.platform.protector.decrypt(op.patients[0].phone_encrypted)

    def reveal(who: StaffActor) -> str:
        return calls.reveal_phone(
            world.db,
            task_id=task.id,
            actor=who,
            now=world.now(),
            protector=world.platform.protector,
        )

    masked = calls.view(
        world.db,
        task=task,
        actor=zhao,
        now=world.now(),
        protector=world.platform.protector,
        tz=TZ,
        masked=True,
    )
    world.db.commit()

    # The page shows the holder only masked data, and reading it is not a phone view.
    assert masked.patient.phone_in_full is False and phone not in masked.patient.phone
    assert (
        masked.patient.name
        == op.patients[0].name_masked
        != world.platform.protector.decrypt(op.patients[0].name_encrypted)
    )
    assert (masked.patient.sex, masked.patient.age) == ("female", 41)
    assert phone_reads(world) == []
    assert refused(reveal, qian) == "call_not_yours"
    assert reveal(zhao) == phone
    world.db.commit()
    assert reveal(zhao) == phone
    world.db.commit()
    assert phone_reads(world) == [("call.reveal_phone", "zhao", str(task.id))] * 2
    world.platform.clock.advance(dt.timedelta(minutes=LOCK))
    assert refused(reveal, zhao) == "call_lock_lapsed"
    world.db.rollback()
    assert len(phone_reads(world)) == 2


def test_a_call_with_its_outcome_reveals_nothing_any_more(world: World) -> None:
    zhao = staff(world, "zhao", Role.CUSTOMER_SERVICE)
    book_for_patients(world, patients=1)
    sample_all(world)
    task = calls.take_next(world.db, actor=zhao, now=world.now(), lock_minutes=LOCK)
    record_outcome(
        world.db,
        task_id=task.id,
        outcome=CallOutcome.GENUINE,
        note="booked for her own knee",
        actor=zhao,
        now=world.now(),
    )
    world.db.commit()

    code = refused(
        calls.reveal_phone,
        world.db,
        task_id=task.id,
        actor=zhao,
        now=world.now(),
        protector=world.platform.protector,
    )

    assert code == "call_done"


def test_the_desk_lists_my_calls_the_waiting_queue_and_the_latest_outcomes(world: World) -> None:
    zhao = staff(world, "zhao", Role.CUSTOMER_SERVICE)
    qian = staff(world, "qian", Role.CUSTOMER_SERVICE)
    op = book_for_patients(world, patients=3)
    created = sample_all(world)

    def desk(who: StaffActor) -> CallDesk:
        lists = calls.desk(world.db, actor=who, now=world.now(), tz=TZ)
        world.db.commit()
        return lists

    assert [r.task_id for r in desk(zhao).waiting] == created
    first = calls.take_next(world.db, actor=zhao, now=world.now(), lock_minutes=LOCK)
    world.db.commit()
    second = calls.take_next(world.db, actor=qian, now=world.now(), lock_minutes=LOCK)
    record_outcome(
        world.db,
        task_id=second.id,
        outcome=CallOutcome.SUSPICIOUS,
        note=None,
        actor=qian,
        now=world.now(),
    )
    world.db.commit()

    mine = desk(zhao)
    assert [r.task_id for r in mine.mine] == [first.id]
    assert (mine.mine[0].status, mine.mine[0].agent) == (CallStatus.TAKEN, "zhao")
    assert mine.mine[0].department == world.department.name
    assert mine.mine[0].patient in {p.name_masked for p in op.patients}
    assert [r.task_id for r in mine.waiting] == [created[2]] and mine.waiting_total == 1
    assert [(r.task_id, r.outcome, r.agent) for r in mine.done] == [
        (second.id, CallOutcome.SUSPICIOUS, "qian")
    ]
    assert desk(qian).mine == []
    # A lapsed claim is no longer the agent's: it waits for whoever takes it next.
    world.platform.clock.advance(dt.timedelta(minutes=LOCK))
    lapsed = desk(zhao)
    assert lapsed.mine == [] and lapsed.waiting_total == 2
    assert [r.task_id for r in lapsed.waiting] == sorted([first.id, created[2]])
