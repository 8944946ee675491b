"""Every path that books checks the blacklist, a block closes what the blocked subject has
waiting, and a confirmed scalper loses his upcoming bookings. On SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import TypeVar

import pytest
from sqlalchemy import select

from factories import bookings as arrange
from factories.batches import run_worker
from factories.bookings import cancel_and_cool
from factories.review import seen, take
from factories.risk import book_for_patients, payment_case
from factories.supply import create_doctor
from factories.world import UNRELEASED_DAY, World
from fairslot.allocation import service as allocation
from fairslot.allocation.models import Intent
from fairslot.allocation.states import AllocationMode, IntentStatus
from fairslot.allocation.verification import verify
from fairslot.blacklist.models import BlacklistEntry, Scope
from fairslot.blacklist.service import block_key
from fairslot.bookings import transitions
from fairslot.bookings.models import Booking
from fairslot.bookings.states import BookingStatus
from fairslot.cases import review
from fairslot.context import RequestContext
from fairslot.crypto import Protector
from fairslot.ledger import repository as ledger_repo
from fairslot.ledger.events import EventKind
from fairslot.ledger.replay import replay
from fairslot.notifications.models import Audience, Notification
from fairslot.patients.models import Account, Patient
from fairslot.schedules.models import ClinicSession, Slot
from fairslot.schedules.states import SlotState
from fairslot.staff.audit import cli_actor
from fairslot.staff.models import StaffAction
from fairslot.waitlist import sweeps
from fairslot.waitlist.models import WaitlistEntry, WaitStatus

T = TypeVar("T")
MIN = dt.timedelta(minutes=1)
IT = cli_actor("it-admin")


# -- helpers ---------------------------------------------------------------------------


def book(world: World, account: Account, patient: Patient, slot_id: str, **ctx: str) -> Booking:
    """Held and paid with the patient's own card, never a shared factory payer: a block
    by payment account must reach only whom it names."""
    return arrange.book(world, account, patient, slot_id, payer=f"6228{patient.id:012d}", **ctx)


def join(world: World, account: Account, patient: Patient, session: ClinicSession) -> WaitlistEntry:
    return arrange.join(world, account, patient, session, payer=f"alipay:wait-{patient.id}@example")


def sweep(world: World, **protector: Protector) -> sweeps.SweepReport:
    report = sweeps.sweep(
        world.db,
        now=world.now(),
        policy=replace(world.policy, waitlist_order="first_come"),
        rng=world.platform.rng,
        **protector,  # without one, device and network entries cannot be checked
    )
    world.db.commit()
    return report


def only_block(world: World, scope: Scope, key: str) -> BlacklistEntry:
    """An entry as the blacklist alone records it, nothing else closed: what a patient
    blocked through a path that closes nothing (or before this fix) leaves waiting."""
    entry = block_key(
        world.db,
        scope=scope,
        key_hash=key,
        label=scope.value,
        reason="confirmed scalper",
        actor=IT,
        now=world.now(),
    )
    world.db.commit()
    return entry


def reread(world: World, model: type[T], ident: object) -> T:
    world.db.expire_all()
    found = world.db.get(model, ident)
    assert found is not None
    world.db.commit()
    return found


def notices(world: World, kind: str, audience: Audience | None = None) -> list[Notification]:
    rows = world.db.scalars(
        select(Notification).where(Notification.kind == kind).order_by(Notification.id)
    ).all()
    world.db.commit()
    return [n for n in rows if audience is None or n.audience == audience]


def ledger_kinds(world: World, slot_id: str) -> list[EventKind]:
    return [e.kind for e in ledger_repo.history(world.db, slot_id)]


def assert_replay_matches(world: World, slot_id: str) -> None:
    events = ledger_repo.history(world.db, slot_id)
    assert replay((e.kind, e.data) for e in events).state == reread(world, Slot, slot_id).state


def draw_department(world: World):
    department = world.department_(allocation_mode=AllocationMode.DRAW)
    create_doctor(world.db, hospital=world.hospital, department=department)
    world.db.commit()
    return department


def register(world: World, account: Account, patient: Patient, session: ClinicSession) -> Intent:
    found, _ = allocation.register_intent(
        world.db,
        account_id=account.id,
        patient_id=patient.id,
        target=allocation.IntentTarget(session_id=session.id),
        payment_account=f"62220200{patient.id:08d}",  # each their own card
        payment_reference=f"pre-{patient.id}",
        now=world.now(),
        ctx=world.ctx(account, device_id=f"device-{patient.id}"),
        policy=world.policy,
        protector=world.platform.protector,
    )
    world.db.commit()
    return found


# -- booking paths check the blacklist -------------------------------------------------


@pytest.mark.parametrize("scope", [Scope.PATIENT, Scope.DEVICE])
def test_a_patient_blocked_after_joining_a_waitlist_is_not_booked_when_a_slot_returns(
    world: World, scope: Scope
) -> None:
    session = world.session(capacity=1)
    canceller, holder = world.patient()
    taken = book(world, canceller, holder, world.slots(session)[0].id)
    scalper_account, scalper = world.patient()
    scalpers_entry = join(world, scalper_account, scalper, session)
    world.platform.clock.advance(MIN)
    genuine = join(world, *world.patient(), session)
    key = (
        scalper.id_hash
        if scope == Scope.PATIENT
        else world.platform.protector.keyed_hash(f"device-{scalper.id}", purpose="device")
    )
    only_block(world, scope, key)
    world.platform.clock.set(cancel_and_cool(world, canceller, taken))

    # first come: the scalper's entry is offered the slot first
    report = (
        sweep(world, protector=world.platform.protector) if scope == Scope.DEVICE else sweep(world)
    )

    assert reread(world, WaitlistEntry, scalpers_entry.id).status == WaitStatus.CLOSED
    served = reread(world, WaitlistEntry, genuine.id)
    assert served.status == WaitStatus.BOOKED and report.waitlist_booked == 1
    made = reread(world, Booking, served.booking_id)
    assert made.patient_id != scalper.id
    closed = notices(world, "waitlist_closed")
    assert [(n.payload["waitlist_id"], n.payload["reason"]) for n in closed] == [
        (scalpers_entry.id, "blacklisted")
    ]
    assert_replay_matches(world, taken.slot_id)


def test_a_blocked_draw_entrant_gets_nothing_and_the_draw_publishes_why(world: World) -> None:
    department = draw_department(world)
    session = world.session(day=UNRELEASED_DAY, capacity=1, department=department)
    (a1, scalper), (a2, genuine) = world.patient(), world.patient()
    world.platform.clock.set(session.push_at + MIN)
    blocked_intent = register(world, a1, scalper, session)
    other = register(world, a2, genuine, session)
    only_block(world, Scope.PATIENT, scalper.id_hash)
    world.platform.clock.set(session.release_at)

    run_worker(world)

    refused = reread(world, Intent, blocked_intent.id)
    assert refused.status == IntentStatus.REFUSED and refused.reason == "blacklisted"
    assert refused.booking_id is None
    assert reread(world, Intent, other.id).status == IntentStatus.WON
    check = verify(world.db, draw_id=refused.draw_id)
    assert check.verified is True
    assert check.draw.result["held_out"] == [refused.id]
    assert check.draw.result["reasons"] == {refused.id: "blacklisted"}
    assert check.draw.result["assignment"][refused.id] is None
    told = notices(world, "draw_refused")
    assert [(n.account_id, n.payload["reason"]) for n in told] == [(a1.id, "blacklisted")]


# -- a block closes what the subject has waiting ----------------------------------------


def test_blocking_closes_the_subjects_waiting_entries_and_pending_intents(world: World) -> None:
    from fairslot.sanctions import service as sanctions

    session = world.session(capacity=1)
    book(world, *world.patient(), world.slots(session)[0].id)
    scalper_account, scalper = world.patient()
    entry = join(world, scalper_account, scalper, session)
    bystander = join(world, *world.patient(), session)
    department = draw_department(world)
    drawn = world.session(day=UNRELEASED_DAY, capacity=1, department=department)
    world.platform.clock.set(drawn.push_at + MIN)
    scalpers_intent = register(world, scalper_account, scalper, drawn)
    other_account, other = world.patient()
    others_intent = register(world, other_account, other, drawn)

    blocked = sanctions.block(
        world.db,
        scope=Scope.DEVICE,
        value=f"device-{scalper.id}",
        reason="one bot device",
        actor=IT,
        now=world.now(),
        protector=world.platform.protector,
    )
    world.db.commit()

    assert blocked.entry.scope == Scope.DEVICE
    assert (blocked.waitlist_closed, blocked.intents_refused) == (1, 1)
    assert reread(world, WaitlistEntry, entry.id).status == WaitStatus.CLOSED
    assert reread(world, WaitlistEntry, bystander.id).status == WaitStatus.WAITING
    refused = reread(world, Intent, scalpers_intent.id)
    assert refused.status == IntentStatus.REFUSED and refused.reason == "blacklisted"
    assert reread(world, Intent, others_intent.id).status == IntentStatus.REGISTERED
    assert [n.payload["reason"] for n in notices(world, "waitlist_closed")] == ["blacklisted"]
    told = notices(world, "draw_refused")
    assert [(n.payload["intent_id"], n.payload["reason"]) for n in told] == [
        (scalpers_intent.id, "blacklisted")
    ]


def test_confirming_a_case_closes_the_scalpers_waitlist_entry_too(world: World, wang) -> None:
    op = book_for_patients(world, patients=2)
    full = world.session(capacity=1, department=world.department_())
    book(world, *world.patient(), world.slots(full)[0].id)
    entry = join(world, op.account, op.patients[0], full)
    payment_case(world, op)
    case = take(world, wang)

    review.confirm(
        world.db,
        case_id=case.id,
        scopes=["patient"],
        days=None,
        reason="two patients, one payer",
        actor=wang,
        now=world.now(),
        protector=world.platform.protector,
        policy=world.policy,
        rng=world.platform.rng,
        evidence_version=seen(world, case.id),
    )
    world.db.commit()

    assert reread(world, WaitlistEntry, entry.id).status == WaitStatus.CLOSED


# -- a confirmed scalper loses his upcoming bookings -------------------------------------


def test_confirming_a_case_withdraws_the_scalpers_upcoming_bookings(world: World, wang) -> None:
    op = book_for_patients(world, patients=3)
    attended = op.bookings[2]
    transitions.record_attendance(
        world.db,
        booking=reread(world, Booking, attended.id),
        outcome=BookingStatus.CHECKED_IN,
        patient_key=op.patients[2].id_hash,
        now=world.now(),
        ctx=RequestContext(actor="hospital"),
    )
    world.db.commit()
    # A genuine family member, bound to the same account, paid with her own card from
    # her own phone: nothing of hers is blocked, so her booking stays.
    _, family = world.patient(account=op.account)
    family_session = world.session(capacity=1)
    kept = book(world, op.account, family, world.slots(family_session)[0].id, device_id="mum")
    payment_case(world, op)
    case = take(world, wang)

    result = review.confirm(
        world.db,
        case_id=case.id,
        scopes=["payment"],
        days=None,
        reason="three patients, one payer",
        actor=wang,
        now=world.now(),
        protector=world.platform.protector,
        policy=world.policy,
        rng=world.platform.rng,
        evidence_version=seen(world, case.id),
    )
    world.db.commit()

    upcoming = op.bookings[:2]
    assert sorted(b.id for b in result.withdrawn) == sorted(b.id for b in upcoming)
    for booking in upcoming:
        gone = reread(world, Booking, booking.id)
        assert gone.status == BookingStatus.WITHDRAWN and gone.ended_at == world.now()
        slot = reread(world, Slot, booking.slot_id)
        # the slot cools like a cancelled one: invisible now, back at a random time
        assert slot.state == SlotState.COOLING
        assert slot.reopen_at is not None and slot.reopen_at > world.now()
        assert ledger_kinds(world, booking.slot_id)[-2:] == [EventKind.CANCELLED, EventKind.COOLING]
        events = ledger_repo.history(world.db, booking.slot_id)
        assert events[-2].data["reason"] == "blacklisted" and events[-2].booking_id == booking.id
        assert_replay_matches(world, booking.slot_id)
    assert reread(world, Booking, attended.id).status == BookingStatus.CHECKED_IN
    assert reread(world, Booking, kept.id).status == BookingStatus.BOOKED
    feed = notices(world, "booking_withdrawn", Audience.HOSPITAL)
    assert sorted(n.booking_id for n in feed) == sorted(b.id for b in upcoming)
    assert all(n.payload["reason"] == "blacklisted" for n in feed)
    told = notices(world, "booking_withdrawn", Audience.CHANNEL)
    assert sorted(n.booking_id for n in told) == sorted(b.id for b in upcoming)
    assert all(n.payload["message_zh"] for n in told)
    audit = world.db.scalars(select(StaffAction).where(StaffAction.action == "case.confirm")).one()
    assert sorted(audit.data["withdrawn"]) == sorted(b.id for b in upcoming)
