"""The pool's invariants under random sequences of operations (hypothesis, stateful).

A state machine drives the real services on a real database with a manual clock:
patients hold random slots (released or not yet), confirm, cancel through any channel
kind (the window included), the clock jumps seconds to hours, the sweep runs, the
hospital checks patients in or marks them absent. Every operation is one transaction,
as at the edge; a refusal must be a DomainError with a 4xx status, anything else fails.
After every step the invariants are read back from the database:

- at most one occupying booking per slot, and each slot's state agrees with it;
- nothing held before its session's release, and availability lists no unreleased session;
- every slot's ledger replays to its stored state;
- every booking's own ledger rows tell the story of its status;
- a cooled slot is never held again before its drawn re-release time.

Each example gets a fresh database: a copy of the migrated SQLite template, or the
per-run PostgreSQL database truncated.
"""

from __future__ import annotations

import datetime as dt
import random
import shutil
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from conftest import START
from factories.pool_checks import BOOKING_HISTORIES, SLOT_OCCUPANT, assert_no_hold_while_cooling
from factories.supply import create_department, create_doctor, import_session
from factories.world import World, make_world
from fairslot.availability import service as availability
from fairslot.bookings import attendance
from fairslot.bookings import service as bookings
from fairslot.bookings.models import Booking
from fairslot.bookings.states import OCCUPYING, BookingStatus
from fairslot.bootstrap import Platform, bootstrap
from fairslot.channels.models import ChannelKind
from fairslot.clock import ManualClock
from fairslot.config import Settings, load_settings
from fairslot.db.engine import make_session_factory
from fairslot.db.registry import Base
from fairslot.errors import DomainError
from fairslot.ledger.events import EventKind
from fairslot.ledger.models import SlotEvent
from fairslot.ledger.replay import replay
from fairslot.patients.identity import Sex
from fairslot.schedules.models import ClinicSession, Slot
from fairslot.schedules.states import SlotState
from fairslot.waitlist import sweeps

HOUR = dt.timedelta(hours=1)

# The sessions of one example, as (local date, capacity, female-only department?).
# 11-23 starts 24 h after START (check-in and no-show come within reach); 11-30 is
# released 16.5 h after START and 12-03 after 3.7 days, so the gate is crossed mid-run.
SESSION_PLAN = (
    (dt.date(2026, 11, 23), 3, False),
    (dt.date(2026, 11, 25), 2, True),
    (dt.date(2026, 11, 30), 2, False),
    (dt.date(2026, 12, 3), 2, False),
)
FIRST_DAY, LAST_DAY = dt.date(2026, 11, 22), dt.date(2026, 12, 5)


# -- a fresh database per example ------------------------------------------------------


@pytest.fixture
def fresh_platform(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path
) -> Iterator[Callable[[], Platform]]:
    """Makes a Platform on an empty migrated database, once per hypothesis example."""
    shared: list[Platform] = []
    if backend == "postgresql":
        url = str(request.getfixturevalue("pg_database"))
        shared.append(bootstrap(load_settings(database_url=url), clock=ManualClock(START)))
    counter = iter(range(10**6))

    def make() -> Platform:
        clock = ManualClock(START)
        if shared:
            settings, engine = shared[0].settings, shared[0].engine
            tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
            with engine.begin() as conn:
                conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
            return bootstrap(settings, clock=clock, engine=engine)
        path = tmp_path / f"example-{next(counter)}.db"
        shutil.copy(sqlite_template, path)
        return bootstrap(load_settings(database_url=f"sqlite:///{path}"), clock=clock)

    yield make
    for platform in shared:
        platform.engine.dispose()


# -- the machine -----------------------------------------------------------------------


@dataclass(frozen=True)
class Held:
    """A booking the machine made, with the account that may act on it."""

    booking_id: str
    account_id: int


class SlotPool(RuleBasedStateMachine):
    """One hospital, four sessions (one female-only department), four patients on three
    accounts (one of them a man), and a clock that only moves forward."""

    make_platform: Callable[[], Platform]
    is_postgres = False
    outcomes: Counter[str]

    def __init__(self) -> None:
        super().__init__()
        self.platform = type(self).make_platform()
        self.clock: ManualClock = self.platform.clock  # type: ignore[assignment]
        self.db = make_session_factory(self.platform.engine, reader=True)()
        self.world = make_world(self.db, self.platform)
        self.sessions = self._build_sessions(self.world)
        self.slot_ids = [s.id for session in self.sessions for s in self.world.slots(session)]
        family, mother = self.world.patient()
        _, daughter = self.world.patient(account=family, birth_date=dt.date(2012, 5, 1))
        single, woman = self.world.patient()
        lone, man = self.world.patient(sex=Sex.MALE)
        self.patients = [
            (family.id, mother.id),
            (family.id, daughter.id),
            (single.id, woman.id),
            (lone.id, man.id),
        ]
        self.held: list[Held] = []
        self.rng = random.Random(0)

    @staticmethod
    def _build_sessions(world: World) -> list[ClinicSession]:
        world.db.commit()
        female_only = create_department(world.db, hospital=world.hospital, sex_restriction="female")
        result = []
        for day, capacity, restricted in SESSION_PLAN:
            department = female_only if restricted else world.department
            doctor = create_doctor(world.db, hospital=world.hospital, department=department)
            result.append(
                import_session(
                    world.db,
                    hospital=world.hospital,
                    department=department,
                    doctor=doctor,
                    date=day,
                    now=world.now(),
                    capacity=capacity,
                )
            )
        world.db.commit()
        return result

    def teardown(self) -> None:
        self.db.rollback()
        self.db.close()
        if not self.is_postgres:
            self.platform.engine.dispose()

    # -- running one request ----------------------------------------------------------

    def request(self, action: str, call: Callable[[Session], object]) -> object | DomainError:
        """One transaction, as the edge runs it: commit, or roll back on a refusal.
        Outcomes are counted across examples and printed at the end (``-s``)."""
        db = self.platform.sessions()
        try:
            result = call(db)
            db.commit()
            self.outcomes[f"{action}: ok"] += 1
            return result
        except DomainError as exc:
            db.rollback()
            self.outcomes[f"{action}: {exc.status} {exc.code}"] += 1
            assert 400 <= exc.status < 500, f"{exc.code} answered {exc.status}"
            return exc
        finally:
            db.close()

    def now(self) -> dt.datetime:
        return self.clock.now()

    def read(self) -> Session:
        self.db.rollback()  # see what the requests committed (SQLite readers keep a snapshot)
        return self.db

    def slot_and_session(self, slot_id: str) -> tuple[Slot, ClinicSession]:
        db = self.read()
        slot = db.get(Slot, slot_id, populate_existing=True)
        assert slot is not None
        session = db.get(ClinicSession, slot.session_id)
        assert session is not None
        return slot, session

    def cancelled_slots(self) -> list[str]:
        """Slots that have cooled at least once (cooling now, or re-released since)."""
        return list(
            self.read().scalars(
                select(SlotEvent.slot_id)
                .where(SlotEvent.kind == EventKind.COOLING)
                .distinct()
                .order_by(SlotEvent.slot_id)
            )
        )

    def booking(self, booking_id: str) -> Booking:
        booking = self.read().get(Booking, booking_id, populate_existing=True)
        assert booking is not None
        return booking

    # -- rules --------------------------------------------------------------------------

    @initialize(seed=st.integers(0, 2**32 - 1))
    def seed_the_cooling_draws(self, seed: int) -> None:
        self.rng = random.Random(seed)

    @rule(who=st.integers(0, 3), which=st.integers(0, 8), pay=st.booleans(), aim=st.booleans())
    def hold(self, who: int, which: int, pay: bool, aim: bool) -> None:
        """A patient holds a slot (released or not, free or not) and maybe pays at once.
        With ``aim`` the patient goes for a slot that was cancelled before, if any: the
        transfer a scalper tries."""
        account_id, patient_id = self.patients[who]
        returned = self.cancelled_slots() if aim else []
        candidates = returned or self.slot_ids
        slot_id = candidates[which % len(candidates)]
        before, session = self.slot_and_session(slot_id)
        now = self.now()
        ctx, policy = self.world.ctx(account_id=account_id), self.world.policy

        outcome = self.request(
            "hold",
            lambda db: (
                bookings.hold(
                    db,
                    account_id=account_id,
                    patient_id=patient_id,
                    slot_id=slot_id,
                    now=now,
                    ctx=ctx,
                    policy=policy,
                    rng=random.Random(self.rng.random()),
                ).id
            ),
        )

        if session.release_at > now:
            assert isinstance(outcome, DomainError) and outcome.code == "slot_not_found"
            return
        if aim and slot_id in returned:
            state = before.state.value
            if before.state == SlotState.COOLING:
                state += ", due" if claimable(before, now) else ", not yet due"
            code = getattr(outcome, "code", "ok")
            self.outcomes[f"hold on a returned slot ({state}): {code}"] += 1
        if isinstance(outcome, DomainError):
            return
        assert now < session.closes_at
        assert claimable(before, now), f"held a {before.state} slot (reopen {before.reopen_at})"
        held = Held(booking_id=str(outcome), account_id=account_id)
        self.held.append(held)
        after, _ = self.slot_and_session(slot_id)
        assert after.state == SlotState.HELD
        if pay:
            self.pay(held)

    @precondition(lambda self: self.held)
    @rule(which=st.integers(0, 50))
    def confirm(self, which: int) -> None:
        self.pay(self.held[which % len(self.held)])

    def pay(self, held: Held) -> None:
        now, ctx = self.now(), self.world.ctx(account_id=held.account_id)
        protector = self.platform.protector
        outcome = self.request(
            "confirm",
            lambda db: bookings.confirm(
                db,
                booking_id=held.booking_id,
                account_id=held.account_id,
                payment_account="6222020000001234",
                payment_reference=f"pay-{held.booking_id[:8]}",
                now=now,
                ctx=ctx,
                protector=protector,
            ),
        )
        if not isinstance(outcome, DomainError):
            booking = self.booking(held.booking_id)
            assert booking.status == BookingStatus.BOOKED
            assert booking.booked_at is not None and booking.expires_at > booking.booked_at

    @precondition(lambda self: self.held)
    @rule(which=st.integers(0, 50), kind=st.sampled_from(ChannelKind))
    def cancel(self, which: int, kind: ChannelKind) -> None:
        held = self.held[which % len(self.held)]
        now, ctx, policy = self.now(), self.world.ctx(account_id=held.account_id), self.world.policy
        rng = random.Random(self.rng.random())
        was_booked = self.booking(held.booking_id).status == BookingStatus.BOOKED
        outcome = self.request(
            f"cancel at {kind.value}",
            lambda db: bookings.cancel(
                db,
                booking_id=held.booking_id,
                account_id=held.account_id,
                now=now,
                ctx=ctx,
                channel_kind=kind,
                policy=policy,
                rng=rng,
            ),
        )
        if isinstance(outcome, DomainError):
            return
        slot, _ = self.slot_and_session(self.booking(held.booking_id).slot_id)
        if was_booked and kind == ChannelKind.WINDOW and not policy.window_cancellations_return:
            assert slot.state == SlotState.RETIRED
        else:
            assert slot.state == SlotState.COOLING and slot.reopen_at is not None
            low, high = policy.cooling_min_minutes, policy.cooling_max_minutes
            assert now + low * MINUTE <= slot.reopen_at <= now + high * MINUTE

    @rule(
        step=st.one_of(
            st.integers(1, 600),  # seconds: around a hold's five minutes
            st.integers(600, 4 * 3600),  # minutes to hours: around the cooling delays
            st.integers(600, 4 * 3600),
            # (session, moment): the first session's closing, start and end; the third's
            # release. Rarer than plain steps so that the later sessions stay bookable.
            st.sampled_from([(0, 1), (0, 2), (0, 3), (2, 0)]),
        ),
        then_sweep=st.booleans(),
    )
    def time_passes(self, step: int | tuple[int, int], then_sweep: bool) -> None:
        """The clock moves on by ``step`` seconds, or straight to a session's release,
        closing, start or end if that lies ahead; then the worker may sweep."""
        if isinstance(step, int):
            self.clock.advance(dt.timedelta(seconds=step))
        else:
            session = self.sessions[step[0]]
            moments = (session.release_at, session.closes_at, session.starts_at, session.ends_at)
            self.clock.set(max(self.now(), moments[step[1]]))
        if then_sweep:
            now = self.now()
            self.request(
                "sweep",
                lambda db: sweeps.sweep(
                    db, now=now, policy=self.world.policy, rng=random.Random(self.rng.random())
                ),
            )

    @precondition(lambda self: self.held)
    @rule(which=st.integers(0, 50), came=st.booleans())
    def record_attendance(self, which: int, came: bool) -> None:
        held = self.held[which % len(self.held)]
        now, hospital_id = self.now(), self.world.hospital.id
        ctx = self.world.ctx(actor="hospital:test", channel_id=None)
        mark = attendance.check_in if came else attendance.mark_no_show
        self.request(
            "check-in" if came else "no-show",
            lambda db: mark(
                db, hospital_id=hospital_id, booking_id=held.booking_id, now=now, ctx=ctx
            ),
        )

    # -- invariants ---------------------------------------------------------------------

    @invariant()
    def at_most_one_occupying_booking_per_slot(self) -> None:
        crowded = self.read().execute(
            select(Booking.slot_id, func.count())
            .where(Booking.status.in_(list(OCCUPYING)))
            .group_by(Booking.slot_id)
            .having(func.count() > 1)
        )
        assert crowded.all() == []

    @invariant()
    def nothing_is_held_before_its_release(self) -> None:
        early = self.read().execute(
            select(Booking.id, Booking.held_at, ClinicSession.release_at)
            .join(ClinicSession, ClinicSession.id == Booking.session_id)
            .where(Booking.held_at < ClinicSession.release_at)
        )
        assert early.all() == []

    @invariant()
    def availability_lists_only_released_sessions_and_free_slots(self) -> None:
        db, now = self.read(), self.now()
        listed = [
            entry
            for department_id in {s.department_id for s in self.sessions}
            for entry in availability.availability(
                db,
                department_id=department_id,
                date_from=FIRST_DAY,
                date_to=LAST_DAY,
                title=None,
                now=now,
                channel_id=self.world.channel.id,
            )
        ]
        sessions = {s.id: s for s in self.sessions}
        for entry in listed:
            session = sessions[entry.session_id]
            assert session.release_at <= now < session.closes_at, entry
            for free in entry.slots:
                slot = db.get(Slot, free.slot_id, populate_existing=True)
                assert slot is not None and claimable(slot, now), (slot.state, slot.reopen_at)
        bookable = {s.id for s in self.sessions if s.release_at <= now < s.closes_at}
        assert {entry.session_id for entry in listed} == bookable

    @invariant()
    def ledgers_replay_and_agree_with_the_bookings(self) -> None:
        db = self.read()
        slots = {
            s.id: s for s in db.scalars(select(Slot).execution_options(populate_existing=True))
        }
        all_bookings = list(db.scalars(select(Booking).execution_options(populate_existing=True)))
        events: dict[str, list[SlotEvent]] = {slot_id: [] for slot_id in slots}
        by_booking: dict[str, list[EventKind]] = {b.id: [] for b in all_bookings}
        for event in db.scalars(select(SlotEvent).order_by(SlotEvent.id)):
            events[event.slot_id].append(event)
            if event.booking_id is not None:
                by_booking[event.booking_id].append(event.kind)

        occupant: dict[str, list[BookingStatus]] = {slot_id: [] for slot_id in slots}
        for booking in all_bookings:
            if booking.status in OCCUPYING:
                occupant[booking.slot_id].append(booking.status)
            assert tuple(by_booking[booking.id]) in BOOKING_HISTORIES[booking.status], (
                booking.status,
                by_booking[booking.id],
            )
        for slot_id, slot in slots.items():
            replayed = replay((e.kind, e.data) for e in events[slot_id])
            assert replayed.state == slot.state, [e.kind.value for e in events[slot_id]]
            if slot.state == SlotState.COOLING:
                assert replayed.reopen_at == slot.reopen_at
            assert occupant[slot_id] == SLOT_OCCUPANT[slot.state], (slot.state, occupant[slot_id])
            assert_no_hold_while_cooling(events[slot_id])


MINUTE = dt.timedelta(minutes=1)


MIN_COOLING = dt.timedelta(minutes=Settings.model_fields["cooling_min_minutes"].default)


def claimable(slot: Slot, now: dt.datetime) -> bool:
    """Whether a channel may hold this slot now (its session aside)."""
    if slot.state == SlotState.OPEN:
        return True
    if slot.state == SlotState.COOLING:
        return slot.reopen_at is not None and slot.reopen_at <= now
    if slot.state == SlotState.HELD:
        # A lapsed hold cools from its expiry for at least the minimum delay (the exact
        # delay is drawn when the lapse is processed, possibly by this very hold).
        return slot.hold_expires_at is not None and slot.hold_expires_at + MIN_COOLING <= now
    return False


EXAMPLES = {"sqlite": 40, "postgresql": 25}


def test_random_operation_sequences_keep_the_pool_invariants(
    backend: str, fresh_platform: Callable[[], Platform]
) -> None:
    class Machine(SlotPool):
        make_platform = staticmethod(fresh_platform)
        is_postgres = backend == "postgresql"
        outcomes: Counter[str] = Counter()  # noqa: RUF012 (shared by the examples on purpose)

    started = time.perf_counter()

    run_state_machine_as_test(
        Machine,
        settings=settings(
            max_examples=EXAMPLES[backend],
            stateful_step_count=25,
            deadline=None,
            database=None,  # keep no example database in the work tree
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        ),
    )
    seconds = time.perf_counter() - started
    print(
        f"\n[{backend}] {EXAMPLES[backend]} examples in {seconds:.1f}s; outcomes: "
        + ", ".join(f"{name} x{n}" for name, n in sorted(Machine.outcomes.items()))
    )
    # A run where nothing ever got booked would prove little.
    assert Machine.outcomes["confirm: ok"] and Machine.outcomes["hold: 404 slot_not_found"]


# -- sequences the machine found, pinned --------------------------------------------------


def pinned_machine(fresh_platform: Callable[[], Platform], backend: str) -> SlotPool:
    class Machine(SlotPool):
        make_platform = staticmethod(fresh_platform)
        is_postgres = backend == "postgresql"
        outcomes: Counter[str] = Counter()  # noqa: RUF012

    return Machine()


def test_a_hold_released_at_the_window_cools_like_any_hold(
    backend: str, fresh_platform: Callable[[], Platform]
) -> None:
    """Found by the machine: a hold (not a booking) cancelled through the window channel
    was retired, HELD → RETIRED, a move the slot state table does not allow, so the
    slot's ledger no longer replayed."""
    machine = pinned_machine(fresh_platform, backend)
    try:
        machine.hold(who=0, which=0, pay=False, aim=False)
        machine.cancel(which=0, kind=ChannelKind.WINDOW)

        assert machine.outcomes["cancel at window: ok"] == 1
        slot, _ = machine.slot_and_session(machine.slot_ids[0])
        assert slot.state == SlotState.COOLING
        machine.ledgers_replay_and_agree_with_the_bookings()
    finally:
        machine.teardown()
