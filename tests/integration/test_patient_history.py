"""What the per-patient rules count (issue 14, round 8): the history is read by
``patient_id`` with each booking's session start beside it, not joined (the join's
planning cost a hold 5.5 ms under the release burst). A no-show is asked by its session's
date from a day before the window and kept only if its session started in the window;
the hold's one statement (binding and history) reads what the history alone reads."""

from __future__ import annotations

import datetime as dt

import pytest

from factories.bookings import confirm, hold
from factories.world import World, make_world
from fairslot.bookings import attendance
from fairslot.bookings import repository as repo
from fairslot.bookings.models import Booking
from fairslot.patients.models import Account, Patient
from fairslot.schedules.models import ClinicSession

MISSED_DAY = dt.date(2026, 11, 23)


@pytest.fixture
def world(db, platform) -> World:  # type: ignore[no-untyped-def]
    return make_world(db, platform)


def _missed(world: World) -> tuple[Account, Patient, ClinicSession, Booking]:
    session = world.session(day=MISSED_DAY)
    account, patient = world.patient()
    booking = confirm(world, account, hold(world, account, patient, world.slots(session)[0].id))
    world.platform.clock.set(session.ends_at)  # type: ignore[attr-defined]
    attendance.mark_no_show(
        world.db, hospital_id=world.hospital.id, booking_id=booking.id, now=world.now(),
        ctx=world.ctx(actor="hospital:test"),
    )  # fmt: skip
    world.db.commit()
    return account, patient, session, booking


@pytest.mark.parametrize(
    ("since_offset", "counted"),
    [
        (dt.timedelta(days=-400), True),
        (dt.timedelta(hours=-30), True),  # the window opens the day before the session
        (dt.timedelta(0), True),  # started at the window's first instant
        (dt.timedelta(seconds=1), False),  # a second before the window
        (dt.timedelta(hours=30), False),
    ],
)
def test_a_no_show_counts_when_its_session_started_in_the_window(
    world: World, since_offset: dt.timedelta, counted: bool
) -> None:
    account, patient, session, _ = _missed(world)
    since = session.starts_at + since_offset
    window = {"day": MISSED_DAY + dt.timedelta(days=5), "today": MISSED_DAY, "no_show_since": since}

    alone = repo.patient_history(world.db, patient_id=patient.id, now=world.now(), **window)
    bound = repo.bound_patient_with_history(
        world.db, account_id=account.id, patient_id=patient.id, channel_id=None,
        now=world.now(), **window,
    )  # fmt: skip
    world.db.commit()

    assert alone.no_show_times == ([session.starts_at] if counted else [])
    assert bound is not None and bound[0].id == patient.id and bound[1] == alone


def test_the_hold_statement_reads_the_day_and_the_pending_bookings_as_the_history_does(
    world: World,
) -> None:
    account, patient = world.patient()
    today = world.session(day=MISSED_DAY)
    later = world.session(day=MISSED_DAY + dt.timedelta(days=2))
    held = hold(world, account, patient, world.slots(today)[0].id)
    booked = confirm(world, account, hold(world, account, patient, world.slots(later)[0].id))
    window = {
        "day": MISSED_DAY,
        "today": MISSED_DAY,
        "no_show_since": world.now() - dt.timedelta(days=365),
    }

    alone = repo.patient_history(world.db, patient_id=patient.id, now=world.now(), **window)
    bound = repo.bound_patient_with_history(
        world.db, account_id=account.id, patient_id=patient.id, channel_id=None,
        now=world.now(), **window,
    )  # fmt: skip
    unbound = repo.bound_patient_with_history(
        world.db, account_id=world.patient()[0].id, patient_id=patient.id, channel_id=None,
        now=world.now(), **window,
    )  # fmt: skip
    world.db.commit()

    assert alone.same_day_departments == [today.department_id]
    assert alone.pending_future == 2 and held.id != booked.id
    assert bound is not None and bound[1] == alone
    assert unbound is None  # another account's: not bound, whatever the history
