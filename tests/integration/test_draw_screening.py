"""Pre-draw screening through the services and the worker, on SQLite and PostgreSQL: a
ring is held out with a case, a family and strangers behind one carrier address are drawn,
a reviewer clears a wrongly held entry before or after the draw, and the published record
verifies with the held-out entries in it."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.exc import DBAPIError

from factories.draw_entries import draw_world, enter, reread, run_worker
from factories.review import seen
from factories.staff import actor, create_staff
from factories.world import UNRELEASED_DAY, World
from fairslot.allocation import rules, screening_review
from fairslot.allocation import service as allocation
from fairslot.allocation.models import Intent, ScreeningEvent
from fairslot.allocation.screening import PUBLIC_HELD
from fairslot.allocation.states import AllocationMode, IntentStatus
from fairslot.allocation.verification import published, verify
from fairslot.blacklist.models import Scope
from fairslot.blacklist.service import block_key
from fairslot.cases import evidence, review
from fairslot.cases.models import Case, CaseEvent
from fairslot.cases.states import CaseStatus
from fairslot.errors import DomainError
from fairslot.notifications.models import Notification
from fairslot.patients.models import Account, Patient
from fairslot.risk.models import RiskAlert
from fairslot.schedules.models import ClinicSession
from fairslot.staff.audit import cli_actor
from fairslot.staff.models import StaffAction
from fairslot.staff.roles import Role

MIN = dt.timedelta(minutes=1)
REVIEWER = cli_actor("reviewer")


@pytest.fixture
def world(db, platform) -> World:
    return draw_world(db, platform)


def ring_of_six(world: World, session: ClinicSession) -> list[Intent]:
    """Six accounts, one patient each, entering from two phones, one payment account and
    one address."""
    people = [world.patient() for _ in range(6)]
    world.platform.clock.set(session.push_at + MIN)
    return behind_the_ring(world, session, people)


def behind_the_ring(
    world: World, session: ClinicSession, people: list[tuple[Account, Patient]]
) -> list[Intent]:
    """``people`` (an account and its patient each) entering from the ring's two phones,
    payment account and address."""
    return [
        enter(
            world,
            account,
            patient,
            session,
            device=f"grab-phone-{n % 2}",
            ip="198.51.100.7",
            payment="6222020000009999",
        )
        for n, (account, patient) in enumerate(people)
    ]


def honest(world: World, session: ClinicSession, n: int) -> Intent:
    account, patient = world.patient()
    return enter(world, account, patient, session, device=f"own-{n}", ip=f"203.0.113.{n}")


def clear(world: World, intent: Intent) -> screening_review.Clearance:
    done = screening_review.clear(
        world.db,
        intent_id=intent.id,
        actor=REVIEWER,
        reason="called the patient: a real person",
        now=world.now(),
        policy=world.policy,
        rng=world.platform.rng,
    )
    world.db.commit()
    return done


def test_a_ring_of_six_is_held_out_with_reasons_and_one_case_and_the_draw_verifies(
    world: World,
) -> None:
    session = world.session(day=UNRELEASED_DAY, capacity=3)
    ring = ring_of_six(world, session)
    genuine = honest(world, session, 1)

    # The worker screens during the window: the reviewer has until the draw.
    report = run_worker(world)
    assert report.held == 6
    held = [reread(world, i.id) for i in ring]
    assert {i.status for i in held} == {IntentStatus.HELD}
    assert {"ring_shared_device", "ring_shared_payment", "ring_size"} <= set(held[0].held_reasons)
    (case_id,) = {i.case_id for i in held}
    case = world.db.get(Case, case_id)
    assert case is not None and case.status == CaseStatus.OPEN and case.subject_kind == "ring"
    alerts = world.db.scalars(select(RiskAlert).where(RiskAlert.case_id == case_id)).all()
    (alert,) = [a for a in alerts if a.entity_kind == "ring"]
    assert alert.rule == "draw_screening" and "ring_shared_device" in alert.explanation
    # Its witnesses, one alert each: the two phones and the broker's payment account.
    assert sorted(a.entity_kind for a in alerts if a is not alert) == [
        "device",
        "device",
        "payment_account",
    ]
    assert sorted(alert.details["intents"]) == sorted(i.id for i in ring)
    assert reread(world, genuine.id).status == IntentStatus.REGISTERED
    # Screening again changes nothing: no second hold, no second case.
    assert run_worker(world).held == 0
    assert world.db.scalar(select(Case.id).where(Case.id != case_id)) is None
    events = world.db.scalars(select(ScreeningEvent).where(ScreeningEvent.kind == "held")).all()
    assert len(events) == 6

    world.platform.clock.set(session.release_at)
    run_worker(world)
    assert reread(world, genuine.id).status == IntentStatus.WON
    assert {reread(world, i.id).status for i in ring} == {IntentStatus.HELD}
    check = verify(world.db, draw_id=genuine.draw_id)
    assert check.verified is True and check.exclusions_explained is True
    result = check.draw.result
    assert sorted(result["held_out"]) == sorted(i.id for i in ring)
    assert set(result["reasons"].values()) == {PUBLIC_HELD}  # nothing of what was detected
    assert all(result["assignment"][i.id] is None for i in ring)


def test_a_family_of_four_on_one_account_and_home_network_is_drawn(world: World) -> None:
    session = world.session(day=UNRELEASED_DAY, capacity=5)
    account, first = world.patient()
    family = [first] + [world.patient(account=account)[1] for _ in range(3)]
    world.platform.clock.set(session.push_at + MIN)
    entered = [
        enter(world, account, p, session, device="mums-phone", ip="192.0.2.10", payment="6222021")
        for p in family
    ]
    world.platform.clock.set(session.release_at)
    run_worker(world)
    statuses = {reread(world, i.id).status for i in entered}
    assert IntentStatus.HELD not in statuses
    assert statuses == {IntentStatus.WON}
    assert not world.db.scalars(select(Case)).all()


def test_strangers_behind_one_carrier_address_are_drawn(world: World) -> None:
    session = world.session(day=UNRELEASED_DAY, capacity=3)
    world.platform.clock.set(session.push_at + MIN)
    crowd = []
    for n in range(10):
        account, patient = world.patient()
        crowd.append(enter(world, account, patient, session, device=f"own-{n}", ip="100.64.0.1"))
    world.platform.clock.set(session.release_at)
    run_worker(world)
    statuses = [reread(world, i.id).status for i in crowd]
    assert statuses.count(IntentStatus.WON) == 3 and statuses.count(IntentStatus.LOST) == 7


def test_an_entry_cleared_before_the_draw_is_drawn_normally(world: World) -> None:
    session = world.session(day=UNRELEASED_DAY, capacity=2)
    ring = ring_of_six(world, session)
    run_worker(world)
    cleared = clear(world, ring[0])
    assert cleared.outcome == "registered"
    again = reread(world, ring[0].id)
    assert again.status == IntentStatus.REGISTERED and again.cleared_at is not None
    audited = world.db.scalars(select(StaffAction).where(StaffAction.action == "intent.clear"))
    assert [a.target_id for a in audited] == [ring[0].id]
    # The next screening leaves the reviewer's decision alone.
    run_worker(world)
    assert reread(world, ring[0].id).status == IntentStatus.REGISTERED

    world.platform.clock.set(session.release_at)
    run_worker(world)
    assert reread(world, ring[0].id).status == IntentStatus.WON
    assert {reread(world, i.id).status for i in ring[1:]} == {IntentStatus.HELD}
    assert verify(world.db, draw_id=ring[0].draw_id).verified is True


def test_an_entry_cleared_after_the_draw_gets_what_its_place_would_have_won(
    world: World,
) -> None:
    session = world.session(day=UNRELEASED_DAY, capacity=1)
    ring = ring_of_six(world, session)
    genuine = honest(world, session, 1)
    world.platform.clock.set(session.release_at)
    run_worker(world)
    assert reread(world, genuine.id).status == IntentStatus.WON
    draw = allocation.get_draw(world.db, draw_id=genuine.draw_id)
    record = published(draw)
    # With only that entry let back in, does its place come before the genuine winner's?
    order = rules.order(
        record.seed, [e.intent_id for e in record.entries], algorithm=draw.algorithm
    )
    before = {i.id for i in ring if order.index(i.id) < order.index(genuine.id)}
    for member in ring[:3]:
        done = clear(world, member)
        if member.id in before:
            # It would have won, but the slot is booked: it is owed the next one.
            assert done.outcome == "owed" and reread(world, member.id).status == IntentStatus.OWED
        else:
            assert done.outcome == "lost" and reread(world, member.id).status == IntentStatus.LOST
    # The published record is unchanged by the remedy and still verifies.
    assert verify(world.db, draw_id=genuine.draw_id).verified is True


def test_an_entry_cleared_after_the_draw_is_booked_into_a_leftover_slot(world: World) -> None:
    session = world.session(day=UNRELEASED_DAY, capacity=3)
    ring = ring_of_six(world, session)
    genuine = honest(world, session, 1)
    world.platform.clock.set(session.release_at)
    run_worker(world)
    assert reread(world, genuine.id).status == IntentStatus.WON
    done = clear(world, ring[2])
    # Two slots were left: with it back in, its place wins whatever the order.
    assert done.outcome == "won" and done.booking_id is not None
    assert reread(world, ring[2].id).status == IntentStatus.WON
    kinds = world.db.scalars(
        select(ScreeningEvent.kind).where(ScreeningEvent.intent_id == ring[2].id)
    ).all()
    assert list(kinds) == ["held", "cleared", "remedy_booked"]


def test_a_reviewer_refuses_a_held_entry_and_cannot_clear_it_afterwards(world: World) -> None:
    session = world.session(day=UNRELEASED_DAY, capacity=2)
    ring = ring_of_six(world, session)
    run_worker(world)
    screening_review.refuse(
        world.db, intent_id=ring[1].id, actor=REVIEWER, reason="confirmed", now=world.now()
    )
    world.db.commit()
    refused = reread(world, ring[1].id)
    assert refused.status == IntentStatus.REFUSED and refused.reason == "review_refused"
    with pytest.raises(DomainError) as info:
        clear(world, ring[1])
    world.db.rollback()
    assert info.value.code == "intent_not_held" and info.value.status == 409


def test_a_blacklisted_entrant_is_refused_and_published_as_blacklisted(world: World) -> None:
    session = world.session(day=UNRELEASED_DAY, capacity=2)
    world.platform.clock.set(session.push_at + MIN)
    account, patient = world.patient()
    blocked = enter(world, account, patient, session, device="own-9", ip="203.0.113.9")
    genuine = honest(world, session, 1)
    block_key(
        world.db,
        scope=Scope.DEVICE,
        key_hash=world.device_key("own-9"),
        label="device",
        reason="confirmed scalper",
        actor=REVIEWER,
        now=world.now(),
    )
    world.db.commit()
    world.platform.clock.set(session.release_at)
    run_worker(world)
    refused = reread(world, blocked.id)
    assert refused.status == IntentStatus.REFUSED and refused.reason == "blacklisted"
    assert reread(world, genuine.id).status == IntentStatus.WON
    check = verify(world.db, draw_id=genuine.draw_id)
    assert check.verified and check.draw.result["reasons"] == {blocked.id: "blacklisted"}


def test_an_entrant_with_an_open_case_is_held_into_that_case(world: World) -> None:
    session = world.session(day=UNRELEASED_DAY, capacity=2)
    ring = ring_of_six(world, session)
    run_worker(world)
    case_id = reread(world, ring[0].id).case_id
    # The same phone's owner enters the next day's draw alone, from a fresh phone.
    patient = world.db.get(Patient, ring[0].patient_id)
    account = world.db.get(Account, ring[0].account_id)
    assert patient is not None and account is not None
    next_day = world.session(day=UNRELEASED_DAY + dt.timedelta(days=1), capacity=2)
    world.platform.clock.set(next_day.push_at + MIN)
    later = enter(world, account, patient, next_day, device="fresh-phone", ip="203.0.113.50")
    run_worker(world)
    held = reread(world, later.id)
    assert held.status == IntentStatus.HELD and "open_case" in (held.held_reasons or []), (
        held.held_reasons
    )
    assert held.case_id == case_id
    opened = world.db.scalars(select(CaseEvent.kind).where(CaseEvent.case_id == case_id)).all()
    assert len(opened) >= 1


def test_the_patients_channel_is_told_under_review_without_the_reasons(world: World) -> None:
    session = world.session(day=UNRELEASED_DAY, capacity=2)
    ring = ring_of_six(world, session)
    run_worker(world)
    told = world.db.scalars(
        select(Notification).where(Notification.kind == "intent_under_review")
    ).all()
    assert len(told) == 6
    payload = told[0].payload
    assert payload["status"] == "held" and "审核" in payload["message_zh"]
    assert not any("ring" in str(v) or "device" in str(v) for v in payload.values())
    assert {n.account_id for n in told} == {i.account_id for i in ring}


def test_the_screening_ledger_refuses_changes(world: World) -> None:
    session = world.session(day=UNRELEASED_DAY, capacity=2)
    ring_of_six(world, session)
    run_worker(world)
    with pytest.raises(DBAPIError, match="append-only"):
        world.db.execute(update(ScreeningEvent).values(kind="cleared"))
    world.db.rollback()
    with pytest.raises(DBAPIError, match="append-only"):
        world.db.execute(delete(ScreeningEvent))
    world.db.rollback()
    assert len(world.db.scalars(select(ScreeningEvent)).all()) == 6


def reviewer_holding_the_case(world: World):
    wang = actor(create_staff(world.db, username="wang", roles={Role.REVIEWER}, now=world.now()))
    world.db.commit()
    review.take_next(world.db, actor=wang, now=world.now(), lock_minutes=30)
    world.db.commit()
    return wang


def test_dismissing_the_case_clears_its_held_entries(world: World) -> None:
    session = world.session(day=UNRELEASED_DAY, capacity=2)
    ring = ring_of_six(world, session)
    run_worker(world)
    wang = reviewer_holding_the_case(world)
    case_id = reread(world, ring[0].id).case_id
    assert case_id is not None
    review.dismiss(
        world.db,
        case_id=case_id,
        reason="a care home's staff",
        actor=wang,
        now=world.now(),
        evidence_version=seen(world, case_id),
    )
    world.db.commit()
    assert {reread(world, i.id).status for i in ring} == {IntentStatus.REGISTERED}
    world.platform.clock.set(session.release_at)
    run_worker(world)
    statuses = [reread(world, i.id).status for i in ring]
    assert statuses.count(IntentStatus.WON) == 2 and statuses.count(IntentStatus.LOST) == 4


def test_confirming_the_case_keeps_its_held_entries_out(world: World) -> None:
    session = world.session(day=UNRELEASED_DAY, capacity=2)
    ring = ring_of_six(world, session)
    run_worker(world)
    wang = reviewer_holding_the_case(world)
    case_id = reread(world, ring[0].id).case_id
    assert case_id is not None
    review.confirm(
        world.db,
        case_id=case_id,
        scopes=["patient"],
        days=None,
        reason="a ring",
        actor=wang,
        now=world.now(),
        protector=world.platform.protector,
        policy=world.policy,
        rng=world.platform.rng,
        evidence_version=seen(world, case_id),
    )
    world.db.commit()
    kept = [reread(world, i.id) for i in ring]
    assert {(i.status, i.reason) for i in kept} == {(IntentStatus.REFUSED, "review_refused")}


def test_a_held_entry_withdrawn_and_entered_again_is_held_again(world: World) -> None:
    session = world.session(day=UNRELEASED_DAY, capacity=2)
    ring = ring_of_six(world, session)
    run_worker(world)
    account = world.db.get(Account, ring[0].account_id)
    patient = world.db.get(Patient, ring[0].patient_id)
    assert account is not None and patient is not None
    gone = allocation.withdraw_intent(
        world.db,
        intent_id=ring[0].id,
        account_id=account.id,
        now=world.now(),
        ctx=world.ctx(account),
    )
    world.db.commit()
    assert gone.status == IntentStatus.WITHDRAWN
    back = enter(world, account, patient, session, device="grab-phone-0", ip="198.51.100.7")
    assert back.id == ring[0].id
    run_worker(world)
    assert reread(world, ring[0].id).status == IntentStatus.HELD


def test_two_accounts_rotating_three_phones_over_eight_patients_are_held(world: World) -> None:
    # Grab software's shape: two accounts of four prepared identities each, every request
    # from the next of three phones and four proxy addresses, a payment account per account.
    # No phone serves more than two accounts or five patients; together they enter eight.
    session = world.session(day=UNRELEASED_DAY, capacity=3)
    world.platform.clock.set(session.push_at + MIN)
    entered = []
    for a in range(2):
        account, first = world.patient()
        people = [first] + [world.patient(account=account)[1] for _ in range(3)]
        for k, patient in enumerate(people):
            n = 4 * a + k
            entered.append(
                enter(
                    world,
                    account,
                    patient,
                    session,
                    device=f"bot-phone-{n % 3}",
                    ip=f"198.51.100.{(n * 7) % 4}",
                    payment=f"622202000000{a:04d}",
                )
            )
    genuine = [honest(world, session, n) for n in range(1, 4)]
    assert run_worker(world).held == 8
    held = [reread(world, i.id) for i in entered]
    assert {i.status for i in held} == {IntentStatus.HELD}
    assert all("ring_size" in i.held_reasons for i in held)
    assert len({i.case_id for i in held}) == 1
    # The case names the three phones as witnesses, each an alert of its own: the evidence
    # a reviewer weighs, and identifiers offered for blocking.
    alerts = world.db.scalars(select(RiskAlert).where(RiskAlert.case_id == held[0].case_id)).all()
    assert sorted(a.entity_kind for a in alerts) == ["device", "device", "device", "ring"]
    assert {a.details["accounts"] for a in alerts if a.entity_kind == "device"} == {2}
    world.platform.clock.set(session.release_at)
    run_worker(world)
    assert {reread(world, i.id).status for i in genuine} == {IntentStatus.WON}


def test_a_couple_on_two_accounts_entering_five_patients_from_one_tablet_is_drawn(
    world: World,
) -> None:
    session = world.session(day=UNRELEASED_DAY, capacity=5)
    world.platform.clock.set(session.push_at + MIN)
    entered = []
    for size in (3, 2):
        account, first = world.patient()
        people = [first] + [world.patient(account=account)[1] for _ in range(size - 1)]
        entered += [
            enter(
                world,
                account,
                p,
                session,
                device="family-tablet",
                ip="192.0.2.20",
                payment="6222029",
            )
            for p in people
        ]
    world.platform.clock.set(session.release_at)
    run_worker(world)
    assert {reread(world, i.id).status for i in entered} == {IntentStatus.WON}
    assert not world.db.scalars(select(Case)).all()


def test_a_phone_behind_rings_in_two_draws_is_offered_for_blocking_in_both_cases(
    world: World,
) -> None:
    # The same operator's phones enter two departments' draws of one day with other
    # patients: the witness's own alert of the day sits in the first ring's case, and the
    # second ring's case still names the phones (its ring alert's details) to block.
    session = world.session(day=UNRELEASED_DAY, capacity=3)
    other = world.session(
        day=UNRELEASED_DAY,
        capacity=3,
        department=world.department_(allocation_mode=AllocationMode.DRAW),
    )
    first, second = ring_of_six(world, session), ring_of_six(world, other)
    run_worker(world)
    cases = sorted({reread(world, i.id).case_id for i in first + second})
    assert len(cases) == 2
    for case_id in cases:
        case = world.db.get(Case, case_id)
        assert case is not None
        found = evidence.candidates(
            evidence.gather(world.db, case=case, protector=world.platform.protector),
            protector=world.platform.protector,
        )
        devices = {c.label for c in found if c.scope == "device"}
        assert len(devices) == 2 and all(label.startswith("device ") for label in devices)
        assert {c.scope for c in found} >= {"patient", "device", "payment"}
    world.db.commit()


def test_latecomers_to_a_held_ring_are_named_in_its_case_for_blocking(
    world: World,
) -> None:
    # The worker screens during the window: a ring of six is held into a case; two more
    # of the operator's identities enter later, from the same phones and card. They join
    # the ring and its case, and the case must name them (a reviewer who confirms it
    # blocks them too), not only hold their entries.
    session = world.session(day=UNRELEASED_DAY, capacity=3)
    first = ring_of_six(world, session)
    assert run_worker(world).held == 6
    late = behind_the_ring(world, session, [world.patient() for _ in range(2)])
    assert run_worker(world).held == 2
    (case_id,) = {reread(world, i.id).case_id for i in first + late}
    case = world.db.get(Case, case_id)
    assert case is not None
    found = evidence.candidates(
        evidence.gather(world.db, case=case, protector=world.platform.protector),
        protector=world.platform.protector,
    )
    patients = {c.key for c in found if c.scope == "patient"}
    everyone = {
        p.id_hash
        for p in world.db.scalars(
            select(Patient).where(Patient.id.in_([i.patient_id for i in first + late]))
        )
    }
    assert patients == everyone
    world.db.commit()


def test_latecomers_to_a_ring_whose_case_was_dismissed_are_held_in_an_open_case(
    world: World,
) -> None:
    # A reviewer cleared the first six (a care home's staff); two more enter behind the
    # same phones and card. They are held for review in an open case, not filed into the
    # dismissed one (which would keep them held with nobody to review them).
    session = world.session(day=UNRELEASED_DAY, capacity=3)
    first = ring_of_six(world, session)
    run_worker(world)
    wang = reviewer_holding_the_case(world)
    dismissed = reread(world, first[0].id).case_id
    assert dismissed is not None
    review.dismiss(
        world.db,
        case_id=dismissed,
        reason="care home",
        actor=wang,
        now=world.now(),
        evidence_version=seen(world, dismissed),
    )
    world.db.commit()
    late = behind_the_ring(world, session, [world.patient() for _ in range(2)])
    assert run_worker(world).held == 2
    (case_id,) = {reread(world, i.id).case_id for i in late}
    case = world.db.get(Case, case_id)
    assert case is not None and case_id != dismissed and case.status == CaseStatus.OPEN
    assert {reread(world, i.id).status for i in first} == {IntentStatus.REGISTERED}
    world.db.commit()
