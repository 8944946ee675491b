"""The waitlist (候补) through the services, on SQLite and PostgreSQL: a slot that comes
back goes to a waiting patient, never to whoever polls first."""

from __future__ import annotations

import datetime as dt
import random
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import pytest
from sqlalchemy.orm import Session

from factories.bookings import book, cancel, cancel_and_cool, hold, join
from factories.world import RELEASED_DAY, World, make_world
from fairslot.availability import service as availability
from fairslot.bookings import service as bookings
from fairslot.bookings.models import Booking
from fairslot.bookings.states import BookingStatus
from fairslot.errors import DomainError
from fairslot.ledger import repository as ledger_repo
from fairslot.ledger.events import EventKind
from fairslot.ledger.replay import replay
from fairslot.notifications.models import Notification
from fairslot.patients.models import Account
from fairslot.schedules.models import ClinicSession, Slot
from fairslot.schedules.states import Period, SlotState
from fairslot.waitlist import repository as waitlist_repo
from fairslot.waitlist import service as waitlist
from fairslot.waitlist import sweeps
from fairslot.waitlist.models import WaitlistEntry, WaitStatus

SECOND = dt.timedelta(seconds=1)


@pytest.fixture
def world(db, platform) -> World:
    return make_world(db, platform)


# -- helpers ---------------------------------------------------------------------------


def sweep(world: World, **policy: object) -> sweeps.SweepReport:
    report = sweeps.sweep(
        world.db,
        now=world.now(),
        policy=replace(world.policy, **policy),  # type: ignore[arg-type]
        rng=world.platform.rng,
    )
    world.db.commit()
    return report


def refused(code: str, world: World, fn, *args, **kwargs) -> DomainError:
    with pytest.raises(DomainError) as info:
        fn(*args, **kwargs)
    world.db.rollback()
    assert info.value.code == code, info.value.detail
    assert 400 <= info.value.status < 500
    return info.value


def entry(world: World, entry_id: str) -> WaitlistEntry:
    found = waitlist_repo.get_entry(world.db, entry_id)
    assert found is not None
    world.db.commit()
    return found


def slot_of(world: World, slot_id: str) -> Slot:
    world.db.expire_all()
    slot = world.db.get(Slot, slot_id)
    assert slot is not None
    world.db.commit()
    return slot


def kinds(world: World, slot_id: str) -> list[EventKind]:
    return [e.kind for e in ledger_repo.history(world.db, slot_id)]


def assert_replay_matches(world: World, slot_id: str) -> None:
    events = ledger_repo.history(world.db, slot_id)
    assert replay((e.kind, e.data) for e in events).state == slot_of(world, slot_id).state


def free_count(world: World) -> int:
    sessions = availability.availability(
        world.db,
        department_id=world.department.id,
        date_from=RELEASED_DAY,
        date_to=RELEASED_DAY,
        title=None,
        now=world.now(),
        channel_id=world.channel.id,
    )
    world.db.commit()
    return sum(s.free for s in sessions)


def notifications(world: World, kind: str) -> list[Notification]:
    found = [n for n in world.db.query(Notification).all() if n.kind == kind]
    world.db.commit()
    return found


def full_session(world: World) -> tuple[ClinicSession, Account, Booking]:
    """A one-slot session booked by a patient who may later cancel."""
    session = world.session(capacity=1)
    account, patient = world.patient()
    booking = book(world, account, patient, world.slots(session)[0].id)
    return session, account, booking


# -- joining ---------------------------------------------------------------------------


def test_a_patient_can_join_only_a_session_that_is_full(world: World) -> None:
    session = world.session(capacity=1)
    account, patient = world.patient()
    other_account, other = world.patient()

    refused("session_not_full", world, join, world, account, patient, session)
    book(world, other_account, other, world.slots(session)[0].id)
    joined = join(world, account, patient, session)

    assert joined.status == WaitStatus.WAITING
    assert joined.payment_account_masked != "alipay:wait@example"
    assert joined.payment_account_hash and joined.device_key == world.device_key(
        f"device-{patient.id}"
    )


def test_joining_again_returns_the_same_entry(world: World) -> None:
    session, _, _ = full_session(world)
    account, patient = world.patient()

    first = join(world, account, patient, session)
    again = join(world, account, patient, session)

    assert again.id == first.id
    assert len(waitlist_repo.waiting_for_session(world.db, session.id)) == 1


def test_the_same_patient_through_a_second_account_gets_no_second_entry(world: World) -> None:
    session, _, _ = full_session(world)
    account, patient = world.patient()
    join(world, account, patient, session)
    second_account, _ = world.patient()
    world.db.commit()
    from factories.demand import create_patient

    # bind the same real person (same ID number) to the second account
    rebound = create_patient(
        world.db,
        world.platform,
        account=second_account,
        id_number=world.platform.protector.decrypt(patient.id_encrypted),
        name=world.platform.protector.decrypt(patient.name_encrypted),
    )
    world.db.commit()
    assert rebound.id == patient.id

    refused("already_waiting", world, join, world, second_account, patient, session)


def test_joining_needs_the_patient_bound_to_the_account(world: World) -> None:
    session, _, _ = full_session(world)
    account, _ = world.patient()
    _, stranger = world.patient()
    refused("patient_not_bound", world, join, world, account, stranger, session)


def test_the_booking_rules_apply_to_joining(world: World) -> None:
    session, _, _ = full_session(world)
    account, patient = world.patient()
    afternoon = world.session(
        capacity=1, period=Period.AFTERNOON, start=dt.time(14, 0), end=dt.time(17, 0)
    )
    book(world, account, patient, world.slots(afternoon)[0].id)  # same department, same day

    refused("duplicate_department_day", world, join, world, account, patient, session)


def test_an_unreleased_session_has_no_waitlist(world: World) -> None:
    from factories.world import UNRELEASED_DAY

    session = world.session(day=UNRELEASED_DAY, capacity=1)
    account, patient = world.patient()
    refused("session_not_found", world, join, world, account, patient, session)


# -- returned slots --------------------------------------------------------------------


def test_a_cancelled_slot_goes_to_a_waiting_patient_when_its_cooling_ends(world: World) -> None:
    session, canceller, booking = full_session(world)
    account, patient = world.patient()
    waiting = join(world, account, patient, session)
    reopen_at = cancel_and_cool(world, canceller, booking)

    # cooling: invisible and unholdable, the waiting patient included
    world.platform.clock.set(reopen_at - SECOND)
    assert free_count(world) == 0
    refused("slot_taken", world, hold, world, account, patient, booking.slot_id)
    assert sweep(world).waitlist_booked == 0

    world.platform.clock.set(reopen_at)
    report = sweep(world)

    served = entry(world, waiting.id)
    assert report.waitlist_booked == 1
    assert served.status == WaitStatus.BOOKED and served.decided_at == reopen_at
    made = bookings.get_booking(
        world.db, booking_id=served.booking_id or "", account_id=account.id, channel_id=None
    )
    assert made.status == BookingStatus.BOOKED and made.patient_id == patient.id
    assert made.payment_reference == f"pre-auth-{patient.id}"
    assert made.payment_account_hash == waiting.payment_account_hash
    assert free_count(world) == 0
    assert kinds(world, booking.slot_id)[-5:] == [
        EventKind.CANCELLED,
        EventKind.COOLING,
        EventKind.RE_RELEASED,
        EventKind.HELD,
        EventKind.BOOKED,
    ]
    booked_event = ledger_repo.history(world.db, booking.slot_id)[-1]
    assert booked_event.actor == "waitlist" and booked_event.account_id == account.id
    assert booked_event.device_key == world.device_key(f"device-{patient.id}")
    told = notifications(world, "waitlist_booked")
    assert [(n.account_id, n.booking_id) for n in told] == [(account.id, made.id)]
    assert [n.booking_id for n in notifications(world, "booking_confirmed")][-1] == made.id
    assert_replay_matches(world, booking.slot_id)


def test_a_poller_at_the_exact_reopen_instant_gets_409_and_the_waiting_patient_the_slot(
    world: World,
) -> None:
    session, canceller, booking = full_session(world)
    account, patient = world.patient()
    waiting = join(world, account, patient, session)
    poller_account, poller = world.patient()
    reopen_at = cancel_and_cool(world, canceller, booking)
    world.platform.clock.set(reopen_at)

    with pytest.raises(DomainError) as info:
        bookings.hold(
            world.db,
            account_id=poller_account.id,
            patient_id=poller.id,
            slot_id=booking.slot_id,
            now=world.now(),
            ctx=world.ctx(poller_account),
            policy=world.policy,
            rng=world.platform.rng,
        )
    # The claim's due-time predicate does not sell a returned slot while anyone waits;
    # the poller's hold settles nothing of anyone else's (the sweeper books the slot).
    assert info.value.code == "slot_taken" and info.value.status == 409
    in_transaction = waitlist_repo.get_entry(world.db, waiting.id)
    assert in_transaction is not None and in_transaction.status == WaitStatus.WAITING
    world.db.rollback()  # the edge rolls a refused request back ...

    # ... and the slot is still nobody's to grab: while someone waits it is not even
    # listed as free, so a hold by session id finds the session full,
    refused(
        "session_full",
        world,
        lambda: bookings.hold(
            world.db,
            account_id=poller_account.id,
            patient_id=poller.id,
            slot_id=bookings.first_free_slot(
                world.db, session_id=session.id, now=world.now(), channel_id=world.channel.id
            ),
            now=world.now(),
            ctx=world.ctx(poller_account),
            policy=world.policy,
            rng=world.platform.rng,
        ),
    )
    # and the worker books it for the waiting patient.
    assert sweep(world).waitlist_booked == 1
    assert entry(world, waiting.id).status == WaitStatus.BOOKED
    assert slot_of(world, booking.slot_id).state == SlotState.BOOKED
    assert_replay_matches(world, booking.slot_id)


def test_a_refused_poller_leaves_the_returned_slot_to_the_sweeper_for_the_waiting_patient(
    world: World,
) -> None:
    session, canceller, booking = full_session(world)
    account, patient = world.patient()
    waiting = join(world, account, patient, session)
    poller_account, poller = world.patient()
    world.platform.clock.set(cancel_and_cool(world, canceller, booking))

    with pytest.raises(DomainError) as info:
        bookings.hold(
            world.db,
            account_id=poller_account.id,
            patient_id=poller.id,
            slot_id=booking.slot_id,
            now=world.now(),
            ctx=world.ctx(poller_account),
            policy=world.policy,
            rng=world.platform.rng,
        )
    world.db.commit()  # even a caller that keeps a refused hold's changes sells nothing

    assert info.value.code == "slot_taken"
    assert entry(world, waiting.id).status == WaitStatus.WAITING
    assert slot_of(world, booking.slot_id).state == SlotState.COOLING
    assert sweep(world).waitlist_booked == 1
    assert entry(world, waiting.id).status == WaitStatus.BOOKED
    assert_replay_matches(world, booking.slot_id)


def test_a_lapsed_hold_returns_its_slot_to_the_waitlist_too(world: World) -> None:
    session = world.session(capacity=1)
    holder_account, holder = world.patient()
    hold(world, holder_account, holder, world.slots(session)[0].id)
    account, patient = world.patient()
    waiting = join(world, account, patient, session)

    world.platform.clock.advance(dt.timedelta(minutes=world.policy.hold_minutes))
    sweep(world)
    reopen_at = slot_of(world, world.slots(session)[0].id).reopen_at
    assert reopen_at is not None
    world.platform.clock.set(reopen_at)

    assert sweep(world).waitlist_booked == 1
    assert entry(world, waiting.id).status == WaitStatus.BOOKED


def test_one_of_several_waiting_patients_gets_the_slot_and_the_others_keep_waiting(
    world: World,
) -> None:
    session, canceller, booking = full_session(world)
    waiting = [join(world, *world.patient(), session) for _ in range(3)]
    world.platform.clock.set(cancel_and_cool(world, canceller, booking))

    sweep(world)

    statuses = sorted(entry(world, w.id).status for w in waiting)
    assert statuses == [WaitStatus.BOOKED, WaitStatus.WAITING, WaitStatus.WAITING]


def test_first_come_serves_the_oldest_entry(world: World) -> None:
    session, canceller, booking = full_session(world)
    first = join(world, *world.patient(), session)
    world.platform.clock.advance(SECOND)
    second = join(world, *world.patient(), session)
    world.platform.clock.set(cancel_and_cool(world, canceller, booking))

    sweep(world, waitlist_order="first_come")

    assert entry(world, first.id).status == WaitStatus.BOOKED
    assert entry(world, second.id).status == WaitStatus.WAITING


def test_a_waiting_patient_a_rule_now_refuses_is_closed_and_the_next_one_booked(
    world: World,
) -> None:
    session, canceller, booking = full_session(world)
    first_account, first = world.patient()
    first_entry = join(world, first_account, first, session)
    world.platform.clock.advance(SECOND)
    second = join(world, *world.patient(), session)
    # the first patient has since booked the same department on the same day
    afternoon = world.session(
        capacity=1, period=Period.AFTERNOON, start=dt.time(14, 0), end=dt.time(17, 0)
    )
    book(world, first_account, first, world.slots(afternoon)[0].id)
    world.platform.clock.set(cancel_and_cool(world, canceller, booking))

    sweep(world, waitlist_order="first_come")

    assert entry(world, first_entry.id).status == WaitStatus.CLOSED
    assert entry(world, second.id).status == WaitStatus.BOOKED
    closed = notifications(world, "waitlist_closed")
    assert [n.payload["reason"] for n in closed] == ["duplicate_department_day"]
    assert_replay_matches(world, booking.slot_id)


def test_with_nobody_waiting_a_returned_slot_goes_on_open_sale(world: World) -> None:
    _, canceller, booking = full_session(world)
    account, patient = world.patient()
    world.platform.clock.set(cancel_and_cool(world, canceller, booking))

    report = sweep(world)

    assert report.slots_re_released == 1 and report.waitlist_booked == 0
    assert slot_of(world, booking.slot_id).state == SlotState.OPEN
    assert free_count(world) == 1
    assert hold(world, account, patient, booking.slot_id).status == BookingStatus.HELD
    assert_replay_matches(world, booking.slot_id)


def test_a_patient_who_left_the_waitlist_is_not_booked(world: World) -> None:
    session, canceller, booking = full_session(world)
    account, patient = world.patient()
    waiting = join(world, account, patient, session)

    left = waitlist.leave(
        world.db,
        entry_id=waiting.id,
        account_id=account.id,
        channel_id=world.channel.id,
        now=world.now(),
    )
    world.db.commit()
    again = waitlist.leave(
        world.db,
        entry_id=waiting.id,
        account_id=account.id,
        channel_id=world.channel.id,
        now=world.now(),
    )
    world.db.commit()
    world.platform.clock.set(cancel_and_cool(world, canceller, booking))
    sweep(world)

    assert left.status == WaitStatus.CANCELLED and again.status == WaitStatus.CANCELLED
    assert entry(world, waiting.id).status == WaitStatus.CANCELLED
    assert slot_of(world, booking.slot_id).state == SlotState.OPEN


def test_a_booked_entry_cannot_be_left_and_another_account_cannot_see_it(world: World) -> None:
    session, canceller, booking = full_session(world)
    account, patient = world.patient()
    waiting = join(world, account, patient, session)
    world.platform.clock.set(cancel_and_cool(world, canceller, booking))
    sweep(world)
    other_account, _ = world.patient()

    refused(
        "waitlist_entry_not_waiting",
        world,
        waitlist.leave,
        world.db,
        entry_id=waiting.id,
        account_id=account.id,
        channel_id=world.channel.id,
        now=world.now(),
    )
    refused(
        "not_your_waitlist_entry",
        world,
        waitlist.get_entry,
        world.db,
        entry_id=waiting.id,
        account_id=other_account.id,
        channel_id=world.channel.id,
    )


def test_entries_of_a_session_that_closed_are_closed_by_the_sweep(world: World) -> None:
    session, _, _ = full_session(world)
    waiting = join(world, *world.patient(), session)

    world.platform.clock.set(session.closes_at)
    report = sweep(world)

    assert report.waitlist_closed == 1
    assert entry(world, waiting.id).status == WaitStatus.CLOSED
    assert [n.payload["reason"] for n in notifications(world, "waitlist_closed")] == [
        "booking_closed"
    ]


def test_a_hold_on_a_slot_nobody_settled_cannot_skip_the_waitlist_on_a_later_day(
    world: World,
) -> None:
    """A returned slot nobody touched for hours is still the waitlist's: the first hold
    after the reopen time books it for a waiting patient, drawn at random."""
    session, canceller, booking = full_session(world)
    waiting = [join(world, *world.patient(), session) for _ in range(2)]
    poller_account, poller = world.patient()
    world.platform.clock.set(cancel_and_cool(world, canceller, booking) + dt.timedelta(hours=1))
    world.platform.rng = random.Random(99)

    refused("slot_taken", world, hold, world, poller_account, poller, booking.slot_id)
    sweep(world)

    assert sorted(entry(world, w.id).status for w in waiting) == [
        WaitStatus.BOOKED,
        WaitStatus.WAITING,
    ]


def test_pollers_racing_the_worker_at_the_reopen_instant_never_get_the_slot(
    world: World,
) -> None:
    """Twenty pollers and one worker sweep, released together at the instant the slot's
    cooling ends, each in a transaction of its own: no poller gets it, the waiting
    patient does, and the ledger agrees."""
    session, canceller, booking = full_session(world)
    waiting = join(world, *world.patient(), session)
    pollers = [world.patient() for _ in range(20)]
    poller_ids = [(account.id, patient.id) for account, patient in pollers]
    reopen_at = cancel_and_cool(world, canceller, booking)
    world.platform.clock.set(reopen_at)
    platform, policy, slot_id = world.platform, world.policy, booking.slot_id
    waiting_patient = waiting.patient_id
    outcomes: list[str] = []
    lock = threading.Lock()

    def run(call: Callable[[Session], object]) -> None:
        barrier.wait(timeout=60)
        db = platform.sessions()
        try:
            call(db)
            db.commit()
            outcome = "ok"
        except DomainError as exc:
            db.rollback()
            outcome = exc.code
        except Exception as exc:  # a 500 (or 503) in production
            db.rollback()
            outcome = f"unexpected {exc.__class__.__name__}: {exc}"
        finally:
            db.close()
        with lock:
            outcomes.append(outcome)

    def poll(account_id: int, patient_id: int) -> Callable[[Session], object]:
        ctx = world.ctx(account_id=account_id)
        return lambda db: bookings.hold(
            db,
            account_id=account_id,
            patient_id=patient_id,
            slot_id=slot_id,
            now=reopen_at,
            ctx=ctx,
            policy=policy,
            rng=random.Random(),
        )

    def sweep_once(db: Session) -> object:
        return sweeps.sweep(db, now=reopen_at, policy=policy, rng=random.Random())

    calls = [poll(a, p) for a, p in poller_ids] + [sweep_once]
    world.db.commit()  # end this session's read snapshot before the threads write
    barrier = threading.Barrier(len(calls))
    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        for future in [pool.submit(run, call) for call in calls]:
            future.result()
    sweep(world)  # whatever the race left undone

    assert sorted(set(outcomes)) == ["ok", "slot_taken"], outcomes
    assert outcomes.count("ok") == 1  # the sweep's; every poller was refused
    assert entry(world, waiting.id).status == WaitStatus.BOOKED
    holders = {
        b.patient_id
        for b in world.db.query(Booking).filter(Booking.slot_id == slot_id).all()
        if b.status == BookingStatus.BOOKED
    }
    world.db.commit()
    assert holders == {waiting_patient}
    assert_replay_matches(world, slot_id)


def test_a_returned_slot_is_not_shown_as_free_while_someone_waits(world: World) -> None:
    """No radar signal: between its reopen time and the worker's next round, a due slot of
    a session with a waiting patient is not listed as free."""
    session = world.session(capacity=1)
    holder_account, holder = world.patient()
    waiter_account, waiter = world.patient()
    booking = book(world, holder_account, holder, world.slots(session)[0].id)
    join(world, waiter_account, waiter, session)
    cancel(world, holder_account, booking)
    world.platform.clock.advance(dt.timedelta(hours=3, seconds=1))

    listed = availability.availability(
        world.db,
        department_id=world.department.id,
        date_from=session.session_date,
        date_to=session.session_date,
        title=None,
        now=world.now(),
        channel_id=world.channel.id,
    )
    assert listed[0].free == 0
