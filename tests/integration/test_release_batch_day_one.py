"""A clinic with no history is batched from its very first release — the platform's
default (``FAIRSLOT_SCARCE_WITHOUT_HISTORY``): day 1 is no race either. Its batch takes
intents from the push, like a draw, as well as holds in the window after the release: one
entry per person either way. The hospital may still choose first-come for such a clinic
until its own history shows it sells out at release (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from factories.batches import hold, run_worker
from factories.supply import create_doctor
from factories.world import UNRELEASED_DAY, World
from fairslot.allocation import modes, scarcity
from fairslot.allocation import service as allocation
from fairslot.allocation.batches import Entered
from fairslot.allocation.models import Draw, Intent
from fairslot.allocation.states import AllocationMode, DrawKind, IntentStatus
from fairslot.bookings.models import Booking
from fairslot.bookings.states import BookingStatus
from fairslot.config import Settings, load_settings
from fairslot.errors import DomainError
from fairslot.hospitals.models import Department
from fairslot.patients.models import Account, Patient
from fairslot.schedules.models import ClinicSession

SECOND = dt.timedelta(seconds=1)


@pytest.fixture
def settings(platform_default_settings: Settings) -> Settings:
    return platform_default_settings  # the platform's own default: caution on


def new_clinic(world: World) -> Department:
    """A first-come department the hospital just opened: no release history."""
    department = world.department_()
    create_doctor(world.db, hospital=world.hospital, department=department)
    world.db.commit()
    return department


def intent(world: World, account: Account, patient: Patient, session: ClinicSession) -> Intent:
    found, _ = allocation.register_intent(
        world.db,
        account_id=account.id,
        patient_id=patient.id,
        target=allocation.IntentTarget(session_id=session.id),
        payment_account=f"62220200{patient.id:08d}",
        payment_reference=f"pre-{patient.id}",
        now=world.now(),
        ctx=world.ctx(account, device_id=f"phone-{patient.id}"),
        policy=world.policy,
        protector=world.platform.protector,
    )
    world.db.commit()
    return found


def override(world: World, department: Department, mode: AllocationMode | None) -> None:
    modes.override(
        world.db,
        department_id=department.id,
        hospital_id=world.hospital.id,
        mode=mode,
        actor=f"hospital:{world.hospital.code}",
        now=world.now(),
    )
    world.db.commit()


def view(world: World, department: Department) -> modes.ModeView:
    world.db.expire_all()
    found = modes.view(
        world.db, department_id=department.id, hospital_id=world.hospital.id, default_seconds=60
    )
    world.db.commit()
    return found


def test_a_new_first_come_clinic_is_batched_from_its_first_release_by_default(
    world: World,
) -> None:
    assert world.policy.scarce_without_history  # the platform's default, not a test's
    department = new_clinic(world)
    session = world.session(day=UNRELEASED_DAY, capacity=1, department=department)
    world.platform.clock.set(session.push_at)
    run_worker(world)  # judges the new clinic (no history: scarce) and opens its batch
    found = view(world, department)
    assert found.schedule_mode == AllocationMode.FIRST_COME
    assert found.effective_mode == AllocationMode.RELEASE_BATCH
    assert found.latest_verdict is not None and found.latest_verdict["precautionary"] is True

    world.platform.clock.set(session.release_at)
    bot = hold(world, *world.patient(), session, device="grabber")
    assert isinstance(bot, Entered)  # the fastest request claims nothing
    world.platform.clock.set(session.release_at + dt.timedelta(seconds=60))
    assert run_worker(world) == 1
    world.db.expire_all()
    assert world.db.get(Intent, bot.entry.id).status == IntentStatus.WON  # type: ignore[union-attr]
    world.db.commit()


def test_an_intent_before_the_release_and_a_hold_at_it_are_one_entry_of_the_batch(
    world: World,
) -> None:
    """A patient who cannot be there at the release instant enters ahead of it, as in a
    draw; the same patient's hold at the release answers that entry (no second chance); a
    pre-authorised entry that wins is booked at once, a hold's entry holds and pays."""
    department = new_clinic(world)
    session = world.session(day=UNRELEASED_DAY, capacity=2, department=department)
    world.platform.clock.set(session.push_at)
    run_worker(world)
    early_account, early = world.patient()
    world.platform.clock.set(session.push_at + dt.timedelta(minutes=10))
    entry = intent(world, early_account, early, session)
    batch = world.db.get(Draw, entry.draw_id)
    world.db.commit()
    assert batch is not None and batch.kind == DrawKind.RELEASE_BATCH
    assert entry.status == IntentStatus.REGISTERED

    world.platform.clock.set(session.release_at + 2 * SECOND)
    again = hold(world, early_account, early, session)
    assert isinstance(again, Entered) and not again.created and again.entry.id == entry.id
    late_account, late = world.patient()
    at_release = hold(world, late_account, late, session)
    assert isinstance(at_release, Entered) and at_release.created
    # After the window, neither an intent nor a first-come claim until the batch has run.
    world.platform.clock.set(session.release_at + dt.timedelta(seconds=61))
    with pytest.raises(DomainError) as closed:
        intent(world, *world.patient(), session)
    world.db.rollback()
    assert closed.value.code == "intent_window_closed"

    assert run_worker(world) == 1
    world.db.expire_all()
    booked = {
        b.patient_id: b.status
        for b in world.db.scalars(select(Booking).where(Booking.session_id == session.id))
    }
    world.db.commit()
    assert booked == {early.id: BookingStatus.BOOKED, late.id: BookingStatus.HELD}


def test_the_hospital_may_choose_first_come_for_a_clinic_without_history(
    world: World,
) -> None:
    """The platform's caution gives way to the hospital, which knows its clinic: the
    override is accepted, shown, recorded, and the next verdict keeps to it."""
    department = new_clinic(world)
    session = world.session(day=UNRELEASED_DAY, capacity=1, department=department)
    world.platform.clock.set(session.push_at - dt.timedelta(hours=1))
    run_worker(world)
    assert view(world, department).effective_mode == AllocationMode.RELEASE_BATCH

    override(world, department, AllocationMode.FIRST_COME)
    found = view(world, department)
    assert (found.override, found.scarce, found.effective_mode) == (
        AllocationMode.FIRST_COME,
        False,
        AllocationMode.FIRST_COME,
    )
    assert found.decisions[0].kind == modes.HOSPITAL_OVERRIDE
    world.platform.clock.set(session.push_at + dt.timedelta(hours=21))
    run_worker(world)  # the verdict is renewed: still no history, still the hospital's way
    found = view(world, department)
    assert found.decisions[0].kind == modes.SCARCITY_VERDICT
    assert not found.scarce and found.effective_mode == AllocationMode.FIRST_COME


def test_history_that_sells_out_at_release_overrides_the_hospitals_first_come(
    world: World,
) -> None:
    department = new_clinic(world)
    override(world, department, AllocationMode.FIRST_COME)
    buyers = [world.patient() for _ in range(6)]
    for n in range(3):
        day = world.session(
            day=UNRELEASED_DAY + dt.timedelta(days=n), capacity=2, department=department
        )
        world.platform.clock.set(day.release_at + 3 * SECOND)
        for account, patient in buyers[2 * n : 2 * n + 2]:
            assert isinstance(hold(world, account, patient, day), Booking)  # a race
    world.platform.clock.set(world.now() + dt.timedelta(minutes=5))
    modes.judge_department(
        world.db,
        department=_department(world, department.id),
        now=world.now(),
        rule=scarcity.ScarcityRule(unknown_is_scarce=True),
    )
    world.db.commit()
    found = view(world, department)
    assert found.scarce and found.effective_mode == AllocationMode.RELEASE_BATCH
    assert found.latest_verdict is not None and found.latest_verdict["precautionary"] is False
    with pytest.raises(DomainError) as refused:
        override(world, department, AllocationMode.FIRST_COME)
    world.db.rollback()
    assert refused.value.code == "scarce_release_cannot_race"


def _department(world: World, department_id: int) -> Department:
    found = world.db.get(Department, department_id)
    assert found is not None
    return found


class TestWithoutCaution:
    """A platform configured without caution is first-come until history speaks."""

    @pytest.fixture
    def settings(self, database_url: str) -> Settings:
        return load_settings(database_url=database_url, scarce_without_history=False)

    def test_a_new_clinic_then_sells_first_come(self, world: World) -> None:
        department = new_clinic(world)
        session = world.session(day=UNRELEASED_DAY, capacity=1, department=department)
        world.platform.clock.set(session.push_at)
        run_worker(world)
        assert view(world, department).effective_mode == AllocationMode.FIRST_COME
        world.platform.clock.set(session.release_at)
        assert isinstance(hold(world, *world.patient(), session), Booking)
