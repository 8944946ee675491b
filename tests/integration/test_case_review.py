"""The review queue through its services, on SQLite and PostgreSQL: taking cases in
order, claims that lapse, release, compare-and-set, calls requested, ring evidence."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from factories.review import LOCK, actions, ask_for_calls, events, refused, seen, take
from factories.risk import (
    book_for_patients,
    device_case,
    payment_case,
    ring_case,
)
from factories.world import World
from fairslot.cases import review
from fairslot.cases import transitions as case_transitions
from fairslot.cases.models import Case, CaseEvent
from fairslot.cases.states import CaseEventKind, CaseStatus
from fairslot.errors import DomainError
from fairslot.followup.models import CallTask
from fairslot.followup.states import CallReason, CallStatus


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
    assert lapse.data == {
        "lapsed": True,
        "reviewer": wang.staff_id,
        "lapsed_at": world.now().isoformat(),  # taken LOCK minutes ago
    }
    assert lapse.actor == "system"
    # The first reviewer can no longer decide it.
    code = refused(
        review.dismiss,
        world.db,
        case_id=case.id,
        reason="late",
        actor=wang,
        now=world.now(),
        evidence_version=seen(world, case.id),
    )
    assert code == "case_not_yours"


def test_a_reviewer_whose_claim_lapsed_cannot_decide_until_taking_it_again(
    world: World, wang
) -> None:
    case = payment_case(world, book_for_patients(world))
    take(world, wang)
    world.platform.clock.advance(dt.timedelta(minutes=LOCK, seconds=1))
    code = refused(
        review.dismiss,
        world.db,
        case_id=case.id,
        reason="family",
        actor=wang,
        now=world.now(),
        evidence_version=seen(world, case.id),
    )
    assert code == "case_lock_lapsed"
    world.db.rollback()
    assert take(world, wang).id == case.id  # nobody else took it: it is theirs again
    review.dismiss(
        world.db,
        case_id=case.id,
        reason="family",
        actor=wang,
        now=world.now(),
        evidence_version=seen(world, case.id),
    )
    world.db.commit()
    assert world.db.get(Case, case.id).status == CaseStatus.DISMISSED


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
        review.dismiss,
        world.db,
        case_id=case.id,
        reason="r",
        actor=wang,
        now=world.now(),
        evidence_version=seen(world, case.id),
    )
    assert code == "case_not_taken"
    assert refused(
        review.dismiss,
        world.db,
        case_id=99999,
        reason="r",
        actor=wang,
        now=world.now(),
        evidence_version=1,
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

    _, tasks = ask_for_calls(
        world, case_id=case.id, actor=wang, question="Did you book this visit yourself?"
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
