"""The booking life cycle through the services, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from factories.bookings import cancel, confirm, hold
from factories.world import RELEASED_DAY, UNRELEASED_DAY, World, make_world
from fairslot.availability import service as availability
from fairslot.bookings import attendance
from fairslot.bookings import service as bookings
from fairslot.bookings.states import BookingStatus
from fairslot.channels.models import ChannelKind
from fairslot.errors import DomainError
from fairslot.ledger import repository as ledger_repo
from fairslot.ledger.events import EventKind
from fairslot.ledger.replay import replay
from fairslot.schedules.states import SlotState
from fairslot.waitlist import sweeps

MIN = dt.timedelta(minutes=1)


@pytest.fixture
def world(db, platform) -> World:
    return make_world(db, platform)


def refused(code: str, fn, *args, **kwargs) -> DomainError:
    with pytest.raises(DomainError) as info:
        fn(*args, **kwargs)
    world_db = args[0].db if args and isinstance(args[0], World) else None
    if world_db is not None:
        world_db.rollback()
    assert info.value.code == code, info.value.detail
    assert 400 <= info.value.status < 500
    return info.value


def kinds(world: World, slot_id: str) -> list[EventKind]:
    return [e.kind for e in ledger_repo.history(world.db, slot_id)]


def assert_replay_matches(world: World, slot_id: str) -> None:
    world.db.expire_all()
    slot = next(s for sess in world.sessions for s in world.slots(sess) if s.id == slot_id)
    events = ledger_repo.history(world.db, slot_id)
    assert replay((e.kind, e.data) for e in events).state == slot.state


def test_a_patient_holds_and_confirms_a_released_slot(world: World) -> None:
    session = world.session()
    account, patient = world.patient()
    slot = world.slots(session)[0]

    booking = hold(world, account, patient, slot.id)
    booked = confirm(world, account, booking)

    assert booked.status == BookingStatus.BOOKED
    assert kinds(world, slot.id) == [
        EventKind.PUSHED,
        EventKind.RELEASED,
        EventKind.HELD,
        EventKind.BOOKED,
    ]
    booked_event = ledger_repo.history(world.db, slot.id)[-1]
    assert booked_event.payment_account_hash and booked_event.device_key == world.device_key(
        "device-1"
    )
    assert booked_event.account_id == account.id and booked_event.channel_id == world.channel.id
    assert_replay_matches(world, slot.id)


def test_nothing_is_visible_or_bookable_before_release(world: World) -> None:
    session = world.session(day=UNRELEASED_DAY)
    account, patient = world.patient()
    slot = world.slots(session)[0]

    def visible() -> list:
        return availability.availability(
            world.db,
            department_id=world.department.id,
            date_from=UNRELEASED_DAY,
            date_to=UNRELEASED_DAY,
            title=None,
            now=world.now(),
            channel_id=world.channel.id,
        )

    assert visible() == []
    refused("slot_not_found", hold, world, account, patient, slot.id)
    # one second before 00:30 Shanghai on 2026-11-23 it is still closed
    world.platform.clock.set(session.release_at - dt.timedelta(seconds=1))
    assert visible() == []
    refused("slot_not_found", hold, world, account, patient, slot.id)
    world.platform.clock.set(session.release_at)
    assert visible()[0].free == 5
    assert hold(world, account, patient, slot.id).status == BookingStatus.HELD


def test_release_is_at_0030_shanghai_seven_days_ahead(world: World) -> None:
    session = world.session(day=UNRELEASED_DAY)
    assert session.release_at == dt.datetime(2026, 11, 22, 16, 30, tzinfo=dt.UTC)
    assert session.push_at == dt.datetime(2026, 11, 22, 16, 0, tzinfo=dt.UTC)


def test_a_second_patient_cannot_hold_a_held_slot(world: World) -> None:
    session = world.session()
    a1, p1 = world.patient()
    a2, p2 = world.patient()
    slot = world.slots(session)[0]
    hold(world, a1, p1, slot.id)
    refused("slot_taken", hold, world, a2, p2, slot.id)


def test_an_unpaid_hold_expires_after_five_minutes(world: World) -> None:
    session = world.session()
    a1, p1 = world.patient()
    slot = world.slots(session)[0]
    first = hold(world, a1, p1, slot.id)

    world.platform.clock.advance(5 * MIN)
    refused("hold_expired", confirm, world, a1, first)
    sweeps.sweep(world.db, now=world.now(), policy=world.policy, rng=world.platform.rng)
    world.db.commit()

    assert (
        bookings.get_booking(
            world.db, booking_id=first.id, account_id=a1.id, channel_id=world.channel.id
        ).status
        == BookingStatus.EXPIRED
    )
    assert_replay_matches(world, slot.id)


def test_the_sweep_expires_lapsed_holds_nobody_touches(world: World) -> None:
    session = world.session()
    account, patient = world.patient()
    slot = world.slots(session)[0]
    hold(world, account, patient, slot.id)
    world.platform.clock.advance(6 * MIN)

    report = sweeps.sweep(world.db, now=world.now(), policy=world.policy, rng=world.platform.rng)
    world.db.commit()

    assert report.holds_expired == 1
    assert world.slots(session)[0].state == SlotState.COOLING
    assert_replay_matches(world, slot.id)


def test_a_cancelled_slot_stays_invisible_to_everyone_until_its_drawn_re_release(
    world: World,
) -> None:
    session = world.session(capacity=1)
    a1, p1 = world.patient()
    a2, p2 = world.patient()
    slot = world.slots(session)[0]
    booking = hold(world, a1, p1, slot.id)
    confirm(world, a1, booking)

    cancel(world, a1, booking, rng=random.Random(5))
    delay = dt.timedelta(seconds=random.Random(5).randint(600, 10800))
    cooled = world.slots(session)[0]

    assert cooled.state == SlotState.COOLING
    assert cooled.reopen_at == world.now() + delay
    world.platform.clock.set(cooled.reopen_at - dt.timedelta(seconds=1))
    refused("slot_taken", hold, world, a1, p1, slot.id)  # the canceller included
    refused("slot_taken", hold, world, a2, p2, slot.id)
    free = availability.availability(
        world.db,
        department_id=world.department.id,
        date_from=RELEASED_DAY,
        date_to=RELEASED_DAY,
        title=None,
        now=world.now(),
        channel_id=world.channel.id,
    )
    assert free[0].free == 0

    world.platform.clock.set(cooled.reopen_at)
    again = hold(world, a2, p2, slot.id)
    assert again.status == BookingStatus.HELD
    assert kinds(world, slot.id)[-4:] == [
        EventKind.CANCELLED,
        EventKind.COOLING,
        EventKind.RE_RELEASED,
        EventKind.HELD,
    ]
    assert_replay_matches(world, slot.id)


def test_a_released_hold_also_cools_so_a_hold_cannot_be_passed_on(world: World) -> None:
    session = world.session(capacity=1)
    a1, p1 = world.patient()
    slot = world.slots(session)[0]
    booking = hold(world, a1, p1, slot.id)
    cancel(world, a1, booking)
    assert world.slots(session)[0].state == SlotState.COOLING
    assert kinds(world, slot.id)[-2:] == [EventKind.HOLD_RELEASED, EventKind.COOLING]


def test_a_window_cancellation_does_not_return_the_slot(world: World) -> None:
    session = world.session(capacity=1)
    account, patient = world.patient()
    slot = world.slots(session)[0]
    booking = hold(world, account, patient, slot.id)
    confirm(world, account, booking)
    cancel(world, account, booking, kind=ChannelKind.WINDOW)
    assert world.slots(session)[0].state == SlotState.RETIRED
    world.platform.clock.advance(dt.timedelta(hours=4))
    _, other = world.patient(account=account)
    refused("slot_taken", hold, world, account, other, slot.id)
    assert_replay_matches(world, slot.id)


def test_cancellation_is_refused_inside_the_cut_off(world: World) -> None:
    session = world.session()
    account, patient = world.patient()
    booking = hold(world, account, patient, world.slots(session)[0].id)
    confirm(world, account, booking)
    world.platform.clock.set(session.starts_at - 119 * MIN)
    refused("cancel_cutoff", cancel, world, account, booking)


def test_one_booking_per_department_per_day_and_two_per_day(world: World) -> None:
    first = world.session()
    second = world.session()
    other_dept = world.department_(code="DERM")
    third_dept = world.department_(code="EYES")
    s_other = world.session(department=other_dept)
    s_third = world.session(department=third_dept)
    account, patient = world.patient()

    hold(world, account, patient, world.slots(first)[0].id)
    refused("duplicate_department_day", hold, world, account, patient, world.slots(second)[0].id)
    hold(world, account, patient, world.slots(s_other)[0].id)
    refused("daily_limit", hold, world, account, patient, world.slots(s_third)[0].id)


def test_a_man_cannot_book_a_female_only_department(world: World) -> None:
    gyn = world.department_(code="GYN", sex_restriction="female")
    session = world.session(department=gyn)
    account, man = world.patient(sex=world_sex("male"))
    error = refused(
        "department_sex_restricted", hold, world, account, man, world.slots(session)[0].id
    )
    assert error.extra["detail_zh"]


def test_an_adult_cannot_book_paediatrics(world: World) -> None:
    ped = world.department_(code="PED", max_age=14)
    session = world.session(department=ped)
    account, adult = world.patient()
    refused("department_age_restricted", hold, world, account, adult, world.slots(session)[0].id)
    _, child = world.patient(account=account, birth_date=dt.date(2019, 6, 1))
    assert hold(world, account, child, world.slots(session)[0].id).status == BookingStatus.HELD


def test_upcoming_bookings_are_capped(world: World) -> None:
    world.platform.settings.max_active_future_bookings = 2
    account, patient = world.patient()
    for day in (dt.date(2026, 11, 24), dt.date(2026, 11, 25)):
        hold(world, account, patient, world.slots(world.session(day=day))[0].id)
    third = world.session(day=dt.date(2026, 11, 26))
    refused("active_booking_limit", hold, world, account, patient, world.slots(third)[0].id)


def test_booking_closes_before_the_session(world: World) -> None:
    session = world.session()
    account, patient = world.patient()
    world.platform.clock.set(session.closes_at)
    refused("booking_closed", hold, world, account, patient, world.slots(session)[0].id)


def test_a_slot_can_be_held_until_the_last_second_before_booking_closes(world: World) -> None:
    session = world.session()
    account, patient = world.patient()
    world.platform.clock.set(session.closes_at - dt.timedelta(seconds=1))

    assert hold(world, account, patient, world.slots(session)[0].id).status == BookingStatus.HELD


def test_check_in_and_no_show_are_recorded_by_the_hospital(world: World) -> None:
    session = world.session(capacity=2)
    a1, p1 = world.patient()
    a2, p2 = world.patient()
    came = confirm(world, a1, hold(world, a1, p1, world.slots(session)[0].id))
    missed = confirm(world, a2, hold(world, a2, p2, world.slots(session)[1].id))
    hospital_ctx = world.ctx(actor="hospital:test")

    refused(
        "check_in_outside_session",
        attendance.check_in,
        world.db,
        hospital_id=world.hospital.id,
        booking_id=came.id,
        now=world.now(),
        ctx=hospital_ctx,
    )
    world.db.rollback()
    world.platform.clock.set(session.starts_at)
    attendance.check_in(
        world.db,
        hospital_id=world.hospital.id,
        booking_id=came.id,
        now=world.now(),
        ctx=hospital_ctx,
    )
    world.db.commit()
    with pytest.raises(DomainError, match="after the session"):
        attendance.mark_no_show(
            world.db,
            hospital_id=world.hospital.id,
            booking_id=missed.id,
            now=world.now(),
            ctx=hospital_ctx,
        )
    world.db.rollback()
    world.platform.clock.set(session.ends_at)
    attendance.mark_no_show(
        world.db,
        hospital_id=world.hospital.id,
        booking_id=missed.id,
        now=world.now(),
        ctx=hospital_ctx,
    )
    world.db.commit()

    assert kinds(world, came.slot_id)[-1] == EventKind.CHECKED_IN
    assert kinds(world, missed.slot_id)[-1] == EventKind.NO_SHOW
    assert_replay_matches(world, came.slot_id)
    assert_replay_matches(world, missed.slot_id)


def test_a_no_show_suspends_booking_for_thirty_days(world: World) -> None:
    session = world.session(day=dt.date(2026, 11, 23))
    account, patient = world.patient()
    booking = confirm(world, account, hold(world, account, patient, world.slots(session)[0].id))
    world.platform.clock.set(session.ends_at)
    attendance.mark_no_show(
        world.db,
        hospital_id=world.hospital.id,
        booking_id=booking.id,
        now=world.now(),
        ctx=world.ctx(actor="hospital:test"),
    )
    world.db.commit()

    later = world.session(day=dt.date(2026, 11, 28))
    error = refused("no_show_ban", hold, world, account, patient, world.slots(later)[0].id)
    assert "2026-12-23" in error.detail


def test_another_hospital_cannot_check_in_a_booking(world: World) -> None:
    session = world.session()
    account, patient = world.patient()
    booking = confirm(world, account, hold(world, account, patient, world.slots(session)[0].id))
    world.platform.clock.set(session.starts_at)
    refused(
        "booking_not_found",
        attendance.check_in,
        world.db,
        hospital_id=world.hospital.id + 99,
        booking_id=booking.id,
        now=world.now(),
        ctx=world.ctx(actor="hospital:x"),
    )


def test_confirming_twice_with_the_same_reference_is_answered_not_refused(world: World) -> None:
    session = world.session()
    account, patient = world.patient()
    booking = hold(world, account, patient, world.slots(session)[0].id)
    first = confirm(world, account, booking)
    again = confirm(world, account, booking)
    assert first.status == again.status == BookingStatus.BOOKED
    assert kinds(world, booking.slot_id).count(EventKind.BOOKED) == 1


def test_only_the_booking_account_can_act_on_a_booking(world: World) -> None:
    session = world.session()
    a1, p1 = world.patient()
    a2, _ = world.patient()
    booking = hold(world, a1, p1, world.slots(session)[0].id)
    refused("not_your_booking", confirm, world, a2, booking)


def world_sex(value: str):
    from fairslot.patients.identity import Sex

    return Sex(value)


def test_a_lapsed_hold_cools_so_its_holder_cannot_re_hold_it_at_the_expiry_instant(
    world: World,
) -> None:
    session = world.session(capacity=1)
    scalper_account, scalper = world.patient()
    buyer_account, buyer = world.patient()
    slot = world.slots(session)[0]
    hold(world, scalper_account, scalper, slot.id)

    world.platform.clock.advance(5 * MIN)  # the hold lapses, to the second
    refused("slot_taken", hold, world, scalper_account, scalper, slot.id)
    refused("slot_taken", hold, world, buyer_account, buyer, slot.id)
    sweeps.sweep(world.db, now=world.now(), policy=world.policy, rng=world.platform.rng)
    world.db.commit()
    cooled = world.slots(session)[0]

    assert cooled.state == SlotState.COOLING
    assert cooled.reopen_at >= world.now() + 10 * MIN  # drawn from the expiry instant
    assert kinds(world, slot.id)[-2:] == [EventKind.HOLD_EXPIRED, EventKind.COOLING]
    assert_replay_matches(world, slot.id)
