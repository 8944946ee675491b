"""The review queue through its services, on SQLite and PostgreSQL: taking cases, claims
that lapse, and the three decisions with their case events and audit rows."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from factories.risk import (
    AlertSpec,
    book_for_patients,
    device_case,
    open_case,
    payment_case,
    ring_case,
)
from factories.staff import actor, create_staff
from factories.world import World, make_world
from fairslot.blacklist import gate
from fairslot.blacklist.models import BlacklistEntry, Scope
from fairslot.blacklist.service import block_key
from fairslot.cases import review
from fairslot.cases import transitions as case_transitions
from fairslot.cases.models import Case, CaseEvent
from fairslot.cases.states import CaseEventKind, CaseStatus
from fairslot.errors import DomainError
from fairslot.followup.models import CallTask
from fairslot.followup.states import CallReason, CallStatus
from fairslot.staff.audit import StaffActor, cli_actor
from fairslot.staff.models import StaffAction
from fairslot.staff.roles import Role

LOCK = 30


@pytest.fixture
def world(db, platform) -> World:
    return make_world(db, platform)


@pytest.fixture
def wang(world: World) -> StaffActor:
    return actor(create_staff(world.db, username="wang", roles={Role.REVIEWER}, now=world.now()))


@pytest.fixture
def li(world: World) -> StaffActor:
    return actor(create_staff(world.db, username="li", roles={Role.REVIEWER}, now=world.now()))


def take(world: World, who: StaffActor) -> Case:
    case = review.take_next(world.db, actor=who, now=world.now(), lock_minutes=LOCK)
    world.db.commit()
    return case


def refused(fn, *args, **kwargs) -> str:
    with pytest.raises(DomainError) as exc:
        fn(*args, **kwargs)
    return exc.value.code


def events(world: World, case_id: int) -> list[str]:
    kinds = world.db.scalars(
        select(CaseEvent.kind).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id)
    ).all()
    world.db.commit()
    return [k.value for k in kinds]


def actions(world: World, case_id: int) -> list[str]:
    rows = world.db.scalars(
        select(StaffAction.action)
        .where(StaffAction.target_kind == "case", StaffAction.target_id == str(case_id))
        .order_by(StaffAction.id)
    ).all()
    world.db.commit()
    return list(rows)


def test_the_next_case_is_the_highest_score_then_the_oldest(world: World, wang, li) -> None:
    op = book_for_patients(world, patients=2)
    older = device_case(world, op, score=2.0)
    world.platform.clock.advance(dt.timedelta(minutes=5))
    other = book_for_patients(world, patients=2)
    newer_same_score = payment_case(world, other, score=2.0)
    low = payment_case(world, op, score=1.1)

    first, second = take(world, wang), take(world, li)
    third = take(world, wang)

    assert [first.id, second.id, third.id] == [older.id, newer_same_score.id, low.id]
    assert refused(review.take_next, world.db, actor=li, now=world.now(), lock_minutes=LOCK) == (
        "queue_empty"
    )


def test_a_taken_case_is_locked_to_its_reviewer_for_the_lock_minutes(world: World, wang) -> None:
    case = payment_case(world, book_for_patients(world))
    taken = take(world, wang)
    assert taken.id == case.id
    world.db.refresh(taken)
    assert taken.status == CaseStatus.IN_REVIEW
    assert taken.assigned_to == wang.staff_id
    assert taken.locked_until == world.now() + dt.timedelta(minutes=LOCK)
    assert events(world, case.id) == ["opened", "alert_added", "taken"]
    assert actions(world, case.id) == ["case.take"]


def test_a_lapsed_claim_lets_another_reviewer_take_the_case(world: World, wang, li) -> None:
    case = payment_case(world, book_for_patients(world))
    take(world, wang)
    world.platform.clock.advance(dt.timedelta(minutes=LOCK - 1))
    assert refused(review.take_next, world.db, actor=li, now=world.now(), lock_minutes=LOCK) == (
        "queue_empty"
    )
    world.platform.clock.advance(dt.timedelta(minutes=1))

    again = take(world, li)

    assert again.id == case.id and again.assigned_to == li.staff_id
    assert events(world, case.id)[-3:] == ["taken", "released", "taken"]
    lapse = world.db.scalars(
        select(CaseEvent).where(CaseEvent.kind == CaseEventKind.RELEASED)
    ).one()
    assert lapse.data == {"lapsed": True, "reviewer": wang.staff_id}
    assert lapse.actor == "system"
    # The first reviewer can no longer decide it.
    code = refused(
        review.dismiss, world.db, case_id=case.id, reason="late", actor=wang, now=world.now()
    )
    assert code == "case_not_yours"


def test_a_reviewer_whose_claim_lapsed_cannot_decide_until_taking_it_again(
    world: World, wang
) -> None:
    case = payment_case(world, book_for_patients(world))
    take(world, wang)
    world.platform.clock.advance(dt.timedelta(minutes=LOCK, seconds=1))
    code = refused(
        review.dismiss, world.db, case_id=case.id, reason="family", actor=wang, now=world.now()
    )
    assert code == "case_lock_lapsed"
    world.db.rollback()
    assert take(world, wang).id == case.id  # nobody else took it: it is theirs again
    review.dismiss(world.db, case_id=case.id, reason="family", actor=wang, now=world.now())
    world.db.commit()
    assert world.db.get(Case, case.id).status == CaseStatus.DISMISSED


def test_confirm_blacklists_exactly_the_chosen_scopes_with_the_gate_keys(
    world: World, wang
) -> None:
    op = book_for_patients(world, patients=3, wifi="wifi-ring-1")
    case = payment_case(world, op)
    take(world, wang)
    protector = world.platform.protector

    result = review.confirm(
        world.db,
        case_id=case.id,
        scopes=["phone", "device"],
        days=90,
        reason="three patients, one payer, one bot device",
        actor=wang,
        now=world.now(),
        protector=protector,
    )
    world.db.commit()

    entries = world.db.scalars(select(BlacklistEntry).order_by(BlacklistEntry.id)).all()
    assert {e.scope for e in entries} == {Scope.PHONE, Scope.DEVICE}
    phones = {p.phone_hash for p in op.patients} | {op.account.phone_hash}
    assert {e.key_hash for e in entries if e.scope == Scope.PHONE} == phones
    assert [e.key_hash for e in entries if e.scope == Scope.DEVICE] == [
        protector.keyed_hash(op.device, purpose="device")
    ]
    assert all(e.case_ref == str(case.id) for e in entries)
    assert all(e.expires_at == world.now() + dt.timedelta(days=90) for e in entries)
    assert len(result.blocked) == len(entries) and result.already == []
    assert "*" in entries[0].label  # masked, never the number
    # The gate now refuses each patient by phone, and the device, but not the network.
    for patient in op.patients:
        ids = gate.Identifiers(phone_hash=patient.phone_hash)
        with pytest.raises(DomainError):
            gate.check(world.db, ids=ids, now=world.now(), protector=protector)
    with pytest.raises(DomainError):
        gate.check(
            world.db,
            ids=gate.Identifiers(device_id=op.device),
            now=world.now(),
            protector=protector,
        )
    gate.check(
        world.db,
        ids=gate.Identifiers(ip=op.ip, account_id=op.account.id),
        now=world.now(),
        protector=protector,
    )
    closed = world.db.get(Case, case.id)
    assert closed.status == CaseStatus.CONFIRMED and closed.closed_at == world.now()
    assert closed.decision_reason == "three patients, one payer, one bot device"
    assert events(world, case.id)[-1] == "confirmed"
    assert actions(world, case.id) == ["case.take", "case.confirm"]
    adds = world.db.scalars(select(StaffAction).where(StaffAction.action == "blacklist.add")).all()
    assert len(adds) == len(entries) and all(a.actor == "wang" for a in adds)


def test_identifiers_already_blocked_are_skipped_and_reported(world: World, wang) -> None:
    op = book_for_patients(world, patients=2)
    case = device_case(world, op)
    earlier = block_key(
        world.db,
        scope=Scope.DEVICE,
        key_hash=world.platform.protector.keyed_hash(op.device, purpose="device"),
        label="gra***",
        reason="an earlier case",
        actor=cli_actor("it"),
        now=world.now(),
    )
    world.db.commit()
    take(world, wang)

    result = review.confirm(
        world.db,
        case_id=case.id,
        scopes=["device", "account"],
        days=None,
        reason="bot",
        actor=wang,
        now=world.now(),
        protector=world.platform.protector,
    )
    world.db.commit()

    assert [e.id for e in result.already] == [earlier.id]
    assert [(e.scope, e.key_hash, e.expires_at) for e in result.blocked] == [
        (Scope.ACCOUNT, f"account:{op.account.id}", None)
    ]


def test_confirm_refuses_a_decision_without_scopes_reason_or_identifiers(
    world: World, wang
) -> None:
    case = device_case(world, book_for_patients(world, patients=2))
    take(world, wang)

    def confirm(**overrides):
        values = {"scopes": ["device"], "days": None, "reason": "bot"}
        values.update(overrides)
        return refused(
            review.confirm,
            world.db,
            case_id=case.id,
            actor=wang,
            now=world.now(),
            protector=world.platform.protector,
            **values,
        )

    assert confirm(scopes=[]) == "scopes_required"
    assert confirm(scopes=["imei"]) == "unknown_scope"
    assert confirm(reason="  ") == "reason_required"
    assert confirm(days=0) == "invalid_days"
    world.db.rollback()
    assert world.db.get(Case, case.id).status == CaseStatus.IN_REVIEW  # nothing happened
    assert world.db.scalars(select(BlacklistEntry)).all() == []
    world.db.commit()


def test_a_scope_the_case_has_no_identifier_of_is_refused(world: World, wang) -> None:
    # An alert on a device alone, with no booking behind it: only the device can be blocked.
    case = open_case(
        world,
        subject_kind="device",
        subject_key="grab-bot-x",
        subject_label="gra***",
        alerts=[
            AlertSpec(
                rule="shared_device",
                entity_kind="device",
                entity_key="grab-bot-x",
                entity_label="gra***",
                score=1.5,
                explanation="one device used for 7 patients",
            )
        ],
    )
    take(world, wang)
    code = refused(
        review.confirm,
        world.db,
        case_id=case.id,
        scopes=["device", "payment"],
        days=None,
        reason="bot",
        actor=wang,
        now=world.now(),
        protector=world.platform.protector,
    )
    assert code == "scope_has_no_identifiers"
    world.db.rollback()


def test_dismiss_closes_the_case_with_its_reason_and_blocks_nothing(world: World, wang) -> None:
    case = payment_case(world, book_for_patients(world))
    take(world, wang)
    review.dismiss(
        world.db, case_id=case.id, reason="a family of three", actor=wang, now=world.now()
    )
    world.db.commit()

    closed = world.db.get(Case, case.id)
    assert closed.status == CaseStatus.DISMISSED
    assert closed.decision_reason == "a family of three"
    assert world.db.scalars(select(BlacklistEntry)).all() == []
    assert events(world, case.id)[-1] == "dismissed"
    audit_row = world.db.scalars(
        select(StaffAction).where(StaffAction.action == "case.dismiss")
    ).one()
    assert audit_row.reason == "a family of three" and audit_row.actor == "wang"
    for fn, kwargs in (
        (review.dismiss, {"reason": "again"}),
        (review.release, {}),
    ):
        assert refused(fn, world.db, case_id=case.id, actor=wang, now=world.now(), **kwargs) == (
            "case_closed"
        )


def test_release_puts_the_case_back_in_the_queue_for_anyone(world: World, wang, li) -> None:
    case = payment_case(world, book_for_patients(world))
    take(world, wang)
    assert refused(review.release, world.db, case_id=case.id, actor=li, now=world.now()) == (
        "case_not_yours"
    )
    review.release(world.db, case_id=case.id, actor=wang, now=world.now())
    world.db.commit()
    assert take(world, li).id == case.id
    assert events(world, case.id)[2:] == ["taken", "released", "taken"]
    assert actions(world, case.id) == ["case.take", "case.release", "case.take"]


def test_an_open_case_must_be_taken_before_a_decision(world: World, wang) -> None:
    case = payment_case(world, book_for_patients(world))
    code = refused(
        review.dismiss, world.db, case_id=case.id, reason="r", actor=wang, now=world.now()
    )
    assert code == "case_not_taken"
    assert refused(
        review.dismiss, world.db, case_id=99999, reason="r", actor=wang, now=world.now()
    ) == ("case_not_found")


def test_a_stale_copy_of_a_case_loses_the_compare_and_set(world: World, wang, platform) -> None:
    case = payment_case(world, book_for_patients(world))
    take(world, wang)
    stale = platform.sessions()
    try:
        old = stale.get(Case, case.id)
        stale.commit()
        review.release(world.db, case_id=case.id, actor=wang, now=world.now())
        world.db.commit()
        with pytest.raises(DomainError) as lost:
            case_transitions.take(
                stale, case=old, actor=wang, now=world.now(), locked_until=world.now()
            )
        assert lost.value.code == "case_changed"
    finally:
        stale.rollback()
        stale.close()


def test_request_calls_makes_one_flagged_task_per_patient_and_the_case_waits(
    world: World, wang
) -> None:
    op = book_for_patients(world, patients=3)
    case = payment_case(world, op)
    take(world, wang)

    _, tasks = review.request_calls(
        world.db,
        case_id=case.id,
        question="Did you book this visit yourself?",
        actor=wang,
        now=world.now(),
        protector=world.platform.protector,
    )
    world.db.commit()

    rows = world.db.scalars(select(CallTask).order_by(CallTask.id)).all()
    assert sorted(t.patient_id for t in rows) == sorted(p.id for p in op.patients)
    assert {t.dedupe_key for t in rows} == {f"case:{case.id}:patient:{p.id}" for p in op.patients}
    assert {(t.reason, t.status, t.case_id) for t in rows} == {
        (CallReason.FLAGGED, CallStatus.PENDING, case.id)
    }
    assert {t.booking_id for t in rows} == set(op.booking_ids)
    waiting = world.db.get(Case, case.id)
    assert waiting.status == CaseStatus.AWAITING_CALL and waiting.locked_until is None
    assert events(world, case.id)[-1] == "call_requested"
    assert actions(world, case.id)[-1] == "case.request_calls"
    assert len(tasks) == 3
    # A waiting case is not in the review queue.
    assert refused(review.take_next, world.db, actor=wang, now=world.now(), lock_minutes=1) == (
        "queue_empty"
    )


def test_request_calls_needs_a_question(world: World, wang) -> None:
    case = payment_case(world, book_for_patients(world))
    take(world, wang)
    code = refused(
        review.request_calls,
        world.db,
        case_id=case.id,
        question=" ",
        actor=wang,
        now=world.now(),
        protector=world.platform.protector,
    )
    assert code == "question_required"


def test_a_ring_case_offers_its_members_even_without_bookings(world: World, wang) -> None:
    first, second = book_for_patients(world, patients=2), book_for_patients(world, patients=2)
    case = ring_case(world, [first, second])
    take(world, wang)
    evidence = review.view(
        world.db,
        case_id=case.id,
        actor=wang,
        now=world.now(),
        protector=world.platform.protector,
        tz=ZoneInfo("Asia/Shanghai"),
    )
    world.db.commit()
    by_scope: dict[str, set[str]] = {}
    for c in evidence.candidates:
        by_scope.setdefault(c.scope, set()).add(c.key)
    patients = first.patients + second.patients
    assert by_scope["patient"] == {p.id_hash for p in patients}
    assert by_scope["account"] == {f"account:{first.account.id}", f"account:{second.account.id}"}
    assert len(by_scope["device"]) == 2 and len(by_scope["payment"]) == 2
    assert len(evidence.bookings) == 4
    assert actions(world, case.id) == ["case.take", "case.view"]
