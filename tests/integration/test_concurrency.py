"""Concurrency hammers: many requests at once, one database, and the pool stays sound.

Each thread plays one request as ``api/deps.py::get_db`` does: its own Session, one
transaction, commit on success, rollback on a refusal. A ``threading.Barrier`` lines the
threads up so that they reach the claim together. PostgreSQL is the backend that
matters (row locks, READ COMMITTED); SQLite serialises writers at BEGIN IMMEDIATE and runs
the same hammers as a check that it stays correct. Run with ``-s`` to see the figures.

The guards are layered (compare-and-set claim, patient row lock + rules, partial unique
indexes as the last guard), so a hammer with every layer in place cannot tell which
one stopped the race. The ``..._alone_...`` tests remove one layer at a time and show
that the other still gives exactly one winner, so breaking either layer fails a test.
"""

from __future__ import annotations

import datetime as dt
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import pytest
from sqlalchemy import Index, func, select, text, true
from sqlalchemy.orm import Session

from factories.pool_checks import BOOKING_HISTORIES, SLOT_OCCUPANT, assert_no_hold_while_cooling
from factories.supply import create_doctor, import_session
from factories.world import RELEASED_DAY, World, make_world
from fairslot.bookings import hold_statement, transitions
from fairslot.bookings import repository as booking_repo
from fairslot.bookings import service as bookings
from fairslot.bookings.models import Booking
from fairslot.bookings.policy import booking_policy
from fairslot.bookings.states import OCCUPYING, BookingStatus
from fairslot.bootstrap import Platform
from fairslot.channels.models import ChannelKind
from fairslot.config import Settings, load_settings
from fairslot.errors import DomainError
from fairslot.ledger.events import EventKind
from fairslot.ledger.models import SlotEvent
from fairslot.ledger.replay import replay
from fairslot.patients.models import Patient
from fairslot.schedules.models import ClinicSession, Slot
from fairslot.schedules.states import SlotState
from fairslot.waitlist import sweeps

# PostgreSQL allows 100 connections and other test runs share the server: pool 20 plus
# overflow 20 (make_engine) keeps one hammer at 40. Threads beyond that queue for a
# connection, as requests queue for a worker in production.
POOL_SIZE = 20
SEATS = 200  # patients racing for one slot
DEPARTMENT_DAY_SLOTS = 50  # slots one patient fires at in parallel
CYCLERS = 100  # threads doing hold → confirm → cancel on a small pool
POOL_SLOTS = 10


@pytest.fixture
def settings(database_url: str) -> Settings:
    return load_settings(database_url=database_url, db_pool_size=POOL_SIZE)


@pytest.fixture
def world(db: Session, platform: Platform) -> World:
    return make_world(db, platform)


# -- the hammer ------------------------------------------------------------------------


@dataclass
class Tally:
    """What came back from one hammer: successes, refusals by (status, code), and any
    exception that is not a DomainError (a 500 in production)."""

    ok: list[object] = field(default_factory=list)
    refused: Counter[tuple[int, str]] = field(default_factory=Counter)
    unexpected: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def add(self, other: Tally) -> None:
        self.ok.extend(other.ok)
        self.refused.update(other.refused)
        self.unexpected.extend(other.unexpected)

    @property
    def statuses(self) -> set[int]:
        return {status for status, _ in self.refused}

    def codes(self) -> str:
        return ", ".join(f"{n} {code}" for (_, code), n in sorted(self.refused.items()))


Request = Callable[[Session], object]


def one_request(platform: Platform, call: Request, tally: Tally, lock: threading.Lock) -> None:
    """Run ``call`` in a transaction of its own and record how it ended."""
    db = platform.sessions()
    try:
        result = call(db)
        db.commit()
        with lock:
            tally.ok.append(result)
    except DomainError as exc:
        db.rollback()
        with lock:
            tally.refused[(exc.status, exc.code)] += 1
    except Exception as exc:
        db.rollback()
        with lock:
            tally.unexpected.append(f"{exc.__class__.__name__}: {exc}")
    finally:
        db.close()


def hammer(platform: Platform, calls: list[Request]) -> Tally:
    """Start one thread per call, release them together, wait for all."""
    tally, lock = Tally(), threading.Lock()
    barrier = threading.Barrier(len(calls))

    def run(call: Request) -> None:
        barrier.wait(timeout=60)
        one_request(platform, call, tally, lock)

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        for future in [pool.submit(run, call) for call in calls]:
            future.result()
    tally.seconds = time.perf_counter() - started
    return tally


def holding(world: World, *, account_id: int, patient_id: int, slot_id: str) -> Request:
    """A hold request built only from ids (ORM objects must not cross threads)."""
    ctx, policy, clock = world.ctx(account_id=account_id), world.policy, world.platform.clock

    def call(db: Session) -> object:
        booking = bookings.hold(
            db,
            account_id=account_id,
            patient_id=patient_id,
            slot_id=slot_id,
            now=clock.now(),
            ctx=ctx,
            policy=policy,
            rng=random.Random(),
        )
        return booking.id

    return call


# -- checks on the database afterwards ---------------------------------------------------


def fresh(db: Session) -> Session:
    """End the checking session's transaction so that it sees what the threads committed
    (on SQLite a reader keeps its snapshot until its transaction ends)."""
    db.rollback()
    return db


def slot_ids_of(db: Session, session_ids: list[int]) -> list[str]:
    return list(db.scalars(select(Slot.id).where(Slot.session_id.in_(session_ids))))


def assert_pool_is_sound(db: Session, slot_ids: list[str]) -> None:
    """At most one occupying booking per slot; each slot's ledger replays to its stored
    state; each slot's state agrees with the booking occupying it; each booking's own
    ledger rows tell its status."""
    fresh(db)
    slots = {s.id: s for s in db.scalars(select(Slot).where(Slot.id.in_(slot_ids)))}
    booking_rows = list(db.scalars(select(Booking).where(Booking.slot_id.in_(slot_ids))))
    events: dict[str, list[SlotEvent]] = {slot_id: [] for slot_id in slot_ids}
    for event in db.scalars(
        select(SlotEvent).where(SlotEvent.slot_id.in_(slot_ids)).order_by(SlotEvent.id)
    ):
        events[event.slot_id].append(event)

    for slot_id, slot_events in events.items():
        assert_no_hold_while_cooling(slot_events, slot_id=slot_id)
    occupying: dict[str, list[Booking]] = {slot_id: [] for slot_id in slot_ids}
    for booking in booking_rows:
        if booking.status in OCCUPYING:
            occupying[booking.slot_id].append(booking)
    for slot_id, slot in slots.items():
        assert len(occupying[slot_id]) <= 1, f"slot {slot_id} has {occupying[slot_id]}"
        replayed = replay((e.kind, e.data) for e in events[slot_id])
        assert replayed.state == slot.state, f"slot {slot_id}: ledger {replayed} vs {slot.state}"
        if slot.state == SlotState.COOLING:
            assert replayed.reopen_at == slot.reopen_at
        held_by = [b.status for b in occupying[slot_id]]
        assert held_by == SLOT_OCCUPANT[slot.state], f"slot {slot_id} {slot.state}: {held_by}"

    by_booking: dict[str, list[EventKind]] = {b.id: [] for b in booking_rows}
    for slot_events in events.values():
        for event in slot_events:
            if event.booking_id is not None:
                by_booking[event.booking_id].append(event.kind)
    for booking in booking_rows:
        assert tuple(by_booking[booking.id]) in BOOKING_HISTORIES[booking.status], (
            f"booking {booking.id} is {booking.status} with ledger {by_booking[booking.id]}"
        )


def count_events(db: Session, slot_ids: list[str], kind: EventKind) -> int:
    return int(
        db.scalar(
            select(func.count())
            .select_from(SlotEvent)
            .where(SlotEvent.slot_id.in_(slot_ids), SlotEvent.kind == kind)
        )
        or 0
    )


def occupying_bookings(db: Session, **where: object) -> list[Booking]:
    stmt = select(Booking).where(Booking.status.in_(list(OCCUPYING)))
    for name, value in where.items():
        stmt = stmt.where(getattr(Booking, name) == value)
    return list(db.scalars(stmt))


# -- layers removed on purpose ---------------------------------------------------------


@pytest.fixture
def unguarded_claim(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The claim with its compare-and-set taken away: it takes the slot it is asked for
    whatever its state (the ``released`` entry is still written once, from the slot's
    old ``release_logged``). The claim's statements are built once, so they are built
    again without the guard, and again with it afterwards."""

    def forget() -> None:
        booking_repo.claim_statement.cache_clear()
        booking_repo._pick_statement.cache_clear()
        hold_statement.statement.cache_clear()

    forget()
    monkeypatch.setattr(booking_repo, "_claimable", lambda now, session=None: true())
    yield
    monkeypatch.undo()
    forget()


@pytest.fixture
def drop_index(platform: Platform, backend: str, db: Session) -> Iterator[Callable[[str], None]]:
    """Drop a unique index of ``bookings`` for one test. SQLite databases are a fresh
    copy per test; the PostgreSQL one is shared, so the index is put back afterwards
    (after emptying ``bookings``, which may hold the duplicates a failed test let in)."""
    dropped: list[Index] = []

    def drop(name: str) -> None:
        index = next(i for i in Booking.__table__.indexes if i.name == name)
        with platform.engine.begin() as conn:
            index.drop(conn)
        dropped.append(index)

    yield drop
    if backend == "postgresql" and dropped:
        db.rollback()  # a failed test may have left the checking session's locks behind
        with platform.engine.begin() as conn:
            conn.execute(text("TRUNCATE bookings CASCADE"))
            for index in dropped:
                index.create(conn)


# -- 1. many patients, one slot --------------------------------------------------------


def race_for_one_slot(world: World) -> tuple[str, Tally]:
    slot = world.slots(world.session(capacity=1))[0]
    patients = [world.patient() for _ in range(SEATS)]
    calls = [
        holding(world, account_id=account.id, patient_id=patient.id, slot_id=slot.id)
        for account, patient in patients
    ]
    return slot.id, hammer(world.platform, calls)


def assert_one_hold(world: World, slot_id: str, tally: Tally) -> None:
    assert tally.unexpected == []
    assert len(tally.ok) == 1
    assert sum(tally.refused.values()) == SEATS - 1
    assert tally.statuses == {409}
    db = fresh(world.db)
    (winner,) = occupying_bookings(db, slot_id=slot_id)
    assert winner.id == tally.ok[0] and winner.status == BookingStatus.HELD
    assert db.scalar(select(func.count()).select_from(Booking)) == 1
    assert booking_repo.get_slot(db, slot_id).state == SlotState.HELD  # type: ignore[union-attr]
    assert count_events(db, [slot_id], EventKind.HELD) == 1
    assert count_events(db, [slot_id], EventKind.RELEASED) == 1
    assert_pool_is_sound(db, [slot_id])


def test_two_hundred_patients_racing_for_one_slot_get_one_hold_and_199_conflicts(
    world: World, backend: str
) -> None:
    slot_id, tally = race_for_one_slot(world)

    print(
        f"\n[{backend}] {SEATS} holds on one slot: {len(tally.ok)} ok, "
        f"{sum(tally.refused.values())} x 409 ({tally.codes()}) in {tally.seconds:.2f}s"
    )
    assert_one_hold(world, slot_id, tally)
    assert set(tally.refused) <= {(409, "slot_taken"), (409, "booking_conflict")}


def test_the_compare_and_set_claim_alone_lets_one_hold_through(
    world: World, backend: str, drop_index: Callable[[str], None]
) -> None:
    drop_index("uq_bookings_occupying_slot")

    slot_id, tally = race_for_one_slot(world)

    print(f"\n[{backend}] claim only: {len(tally.ok)} ok, {tally.codes()} in {tally.seconds:.2f}s")
    assert_one_hold(world, slot_id, tally)
    assert set(tally.refused) == {(409, "slot_taken")}


def test_the_unique_index_alone_lets_one_hold_through_when_the_claim_takes_any_slot(
    world: World, backend: str, unguarded_claim: None
) -> None:

    slot_id, tally = race_for_one_slot(world)

    print(f"\n[{backend}] index only: {len(tally.ok)} ok, {tally.codes()} in {tally.seconds:.2f}s")
    assert_one_hold(world, slot_id, tally)
    assert set(tally.refused) == {(409, "booking_conflict")}


# -- 2. one patient, many slots of one department-day ------------------------------------


def fire_at_department_day(world: World) -> tuple[Patient, list[str], Tally]:
    """One patient (one account) holds 50 slots of five sessions, same department and day."""
    world.db.commit()
    sessions: list[ClinicSession] = []
    for n in range(DEPARTMENT_DAY_SLOTS // 10):
        doctor = create_doctor(world.db, hospital=world.hospital, department=world.department)
        sessions.append(
            import_session(
                world.db,
                hospital=world.hospital,
                department=world.department,
                doctor=doctor,
                date=RELEASED_DAY,
                now=world.now(),
                capacity=10,
                start=dt.time(8 + n, 0),
                end=dt.time(9 + n, 0),
            )
        )
    world.db.commit()
    account, patient = world.patient()
    slot_ids = slot_ids_of(fresh(world.db), [s.id for s in sessions])
    world.db.commit()
    assert len(slot_ids) == DEPARTMENT_DAY_SLOTS
    calls = [
        holding(world, account_id=account.id, patient_id=patient.id, slot_id=slot_id)
        for slot_id in slot_ids
    ]
    return patient, slot_ids, hammer(world.platform, calls)


def assert_one_department_day_booking(
    world: World, patient: Patient, slot_ids: list[str], tally: Tally
) -> None:
    assert tally.unexpected == []
    assert len(tally.ok) == 1
    assert sum(tally.refused.values()) == DEPARTMENT_DAY_SLOTS - 1
    assert tally.statuses == {409}
    db = fresh(world.db)
    (only,) = occupying_bookings(db, patient_id=patient.id)
    assert only.id == tally.ok[0] and only.session_date == RELEASED_DAY
    states = Counter(s.state for s in db.scalars(select(Slot).where(Slot.id.in_(slot_ids))))
    assert states == {SlotState.HELD: 1, SlotState.OPEN: DEPARTMENT_DAY_SLOTS - 1}
    assert count_events(db, slot_ids, EventKind.HELD) == 1
    assert_pool_is_sound(db, slot_ids)


def test_one_patient_firing_at_fifty_slots_of_one_department_day_gets_one(
    world: World, backend: str
) -> None:
    patient, slot_ids, tally = fire_at_department_day(world)

    print(
        f"\n[{backend}] one patient, {DEPARTMENT_DAY_SLOTS} slots of one department-day: "
        f"{len(tally.ok)} ok, {sum(tally.refused.values())} x 409 ({tally.codes()}) "
        f"in {tally.seconds:.2f}s"
    )
    assert_one_department_day_booking(world, patient, slot_ids, tally)
    assert set(tally.refused) <= {
        (409, "duplicate_department_day"),
        (409, "booking_conflict"),
    }


def test_the_patient_lock_and_rules_alone_keep_one_booking_per_department_day(
    world: World, backend: str, drop_index: Callable[[str], None]
) -> None:
    drop_index("uq_bookings_patient_department_day")

    patient, slot_ids, tally = fire_at_department_day(world)

    print(f"\n[{backend}] lock+rules only: {tally.codes()} in {tally.seconds:.2f}s")
    assert_one_department_day_booking(world, patient, slot_ids, tally)
    assert set(tally.refused) == {(409, "duplicate_department_day")}


def test_the_department_day_index_alone_keeps_one_booking_without_the_patient_lock(
    world: World, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(booking_repo, "lock_patient", lambda db, *, patient_id: None)

    patient, slot_ids, tally = fire_at_department_day(world)

    print(f"\n[{backend}] index only: {tally.codes()} in {tally.seconds:.2f}s")
    assert_one_department_day_booking(world, patient, slot_ids, tally)


# -- 2b. many patients, one session, fewer slots than holders ----------------------------

BY_SESSION_HOLDERS = 60  # holds by session, each for a patient of their own
BY_SESSION_SLOTS = 12  # free slots of the session


def holding_by_session(
    world: World, *, account_id: int, patient_id: int, session_id: int
) -> Request:
    """A hold by session as ``POST /v1/holds`` makes it: the session's first free slot as
    read a moment ago, then the hold, which takes whichever slot is free at the claim."""
    ctx, policy, clock = world.ctx(account_id=account_id), world.policy, world.platform.clock
    channel_id = ctx.channel_id or 0

    def call(db: Session) -> object:
        now = clock.now()
        first = bookings.first_free_slot(db, session_id=session_id, now=now, channel_id=channel_id)
        return bookings.hold(
            db,
            account_id=account_id,
            patient_id=patient_id,
            slot_id=first,
            session_id=session_id,
            now=now,
            ctx=ctx,
            policy=policy,
            rng=random.Random(),
        ).id

    return call


def test_holds_by_session_fill_every_free_slot_and_only_the_rest_are_told_the_session_is_full(
    world: World, backend: str
) -> None:
    """Concurrent holders of one session all read the same "first free slot"; the losers
    of that slot are moved to the next free one, not refused: exactly as many holds win
    as there are free slots, every other one is ``session_full``, none ``slot_taken``."""
    session = world.session(capacity=BY_SESSION_SLOTS)
    slot_ids = [slot.id for slot in world.slots(session)]
    patients = [world.patient() for _ in range(BY_SESSION_HOLDERS)]
    world.db.commit()
    calls = [
        holding_by_session(
            world, account_id=account.id, patient_id=patient.id, session_id=session.id
        )
        for account, patient in patients
    ]

    tally = hammer(world.platform, calls)

    print(
        f"\n[{backend}] {BY_SESSION_HOLDERS} holds by session on {BY_SESSION_SLOTS} slots: "
        f"{len(tally.ok)} ok, {tally.codes()} in {tally.seconds:.2f}s"
    )
    assert tally.unexpected == []
    assert len(tally.ok) == BY_SESSION_SLOTS
    assert dict(tally.refused) == {(409, "session_full"): BY_SESSION_HOLDERS - BY_SESSION_SLOTS}
    db = fresh(world.db)
    held = occupying_bookings(db, session_id=session.id)
    assert sorted(b.id for b in held) == sorted(str(i) for i in tally.ok)
    assert sorted(b.slot_id for b in held) == sorted(slot_ids)  # each slot once, none twice
    assert len({b.patient_id for b in held}) == BY_SESSION_SLOTS
    assert count_events(db, slot_ids, EventKind.HELD) == BY_SESSION_SLOTS
    assert count_events(db, slot_ids, EventKind.RELEASED) == BY_SESSION_SLOTS
    assert_pool_is_sound(db, slot_ids)


def test_a_hold_by_session_takes_the_next_free_slot_when_its_first_is_gone(
    world: World,
) -> None:
    """The slot read as first free is taken before the hold's claim: the hold gets the
    next one (the race above, replayed step by step)."""
    session = world.session(capacity=3)
    first, second, _ = [slot.id for slot in world.slots(session)]
    (early_account, early), (late_account, late) = world.patient(), world.patient()
    world.db.commit()
    seen = bookings.first_free_slot(
        world.db, session_id=session.id, now=world.now(), channel_id=world.ctx().channel_id or 0
    )
    world.db.commit()
    assert seen == first
    tally, lock = Tally(), threading.Lock()
    one_request(
        world.platform,
        holding(world, account_id=early_account.id, patient_id=early.id, slot_id=first),
        tally,
        lock,
    )

    def late_hold(db: Session) -> object:
        return bookings.hold(
            db,
            account_id=late_account.id,
            patient_id=late.id,
            slot_id=seen,
            session_id=session.id,
            now=world.now(),
            ctx=world.ctx(account_id=late_account.id),
            policy=world.policy,
            rng=random.Random(),
        ).slot_id

    one_request(world.platform, late_hold, tally, lock)

    assert tally.unexpected == [] and not tally.refused
    assert tally.ok[1] == second
    assert_pool_is_sound(fresh(world.db), [first, second])


# -- 3. hold → confirm → cancel cycles while the clock runs ------------------------------


def confirming(world: World, *, account_id: int, booking_id: str) -> Request:
    ctx = world.ctx(account_id=account_id)
    clock, protector = world.platform.clock, world.platform.protector

    def call(db: Session) -> object:
        return bookings.confirm(
            db,
            booking_id=booking_id,
            account_id=account_id,
            payment_account=f"6222020000{account_id:06d}",
            payment_reference=f"pay-{booking_id[:8]}",
            now=clock.now(),
            ctx=ctx,
            protector=protector,
        ).id

    return call


def cancelling(world: World, *, account_id: int, booking_id: str, seed: float) -> Request:
    ctx, policy, clock = world.ctx(account_id=account_id), world.policy, world.platform.clock

    def call(db: Session) -> object:
        return bookings.cancel(
            db,
            booking_id=booking_id,
            account_id=account_id,
            now=clock.now(),
            ctx=ctx,
            channel_kind=ChannelKind.WECHAT,
            policy=policy,
            rng=random.Random(seed),
        ).id

    return call


def holds_after_cooling(db: Session, slot_ids: list[str]) -> int:
    """Holds taken on a slot that had been cancelled and cooled before."""
    cooled: set[str] = set()
    count = 0
    for slot_id, kind in db.execute(
        select(SlotEvent.slot_id, SlotEvent.kind)
        .where(SlotEvent.slot_id.in_(slot_ids))
        .order_by(SlotEvent.id)
    ):
        if kind == EventKind.COOLING:
            cooled.add(slot_id)
        elif kind == EventKind.HELD and slot_id in cooled:
            count += 1
    return count


@dataclass(frozen=True)
class Cycler:
    account_id: int
    patient_id: int
    seed: int


def test_hold_confirm_cancel_cycles_on_ten_slots_keep_every_slot_and_ledger_sound(
    world: World, backend: str
) -> None:
    session = world.session(capacity=POOL_SLOTS)
    slot_ids = [s.id for s in world.slots(session)]
    cyclers = [
        Cycler(account_id=a.id, patient_id=p.id, seed=n)
        for n, (a, p) in enumerate(world.patient() for _ in range(CYCLERS))
    ]
    platform, clock = world.platform, world.platform.clock
    clock_started = clock.now()
    # Stay clear of the cancel cut-off (120 min before the session) so that every
    # refusal comes from the race, not from the calendar.
    clock_stop = session.starts_at - dt.timedelta(hours=3)
    tally, sweeps_run, lock = Tally(), Tally(), threading.Lock()
    done = threading.Event()
    barrier = threading.Barrier(CYCLERS + 2)

    cooling = dt.timedelta(minutes=booking_policy(platform.settings).cooling_max_minutes)

    def cycle(who: Cycler) -> None:
        rng = random.Random(who.seed)
        barrier.wait(timeout=60)
        cancelled: str | None = None
        for _ in range(3):
            # After a cancellation, wait (on the clock, not for a time) until its slot's
            # drawn cooling is surely over, and try that slot again: however fast the
            # cycles run, a cooled slot is asked for again.
            if cancelled is not None:
                due = min(clock.now() + cooling, clock_stop)
                while clock.now() < due and not done.is_set():
                    time.sleep(0.005)
            slot_id = cancelled or rng.choice(slot_ids)
            cancelled = None
            held = Tally()
            one_request(
                platform,
                holding(
                    world, account_id=who.account_id, patient_id=who.patient_id, slot_id=slot_id
                ),
                held,
                lock,
            )
            with lock:
                tally.add(held)
            if not held.ok:
                continue
            booking_id = str(held.ok[0])
            one_request(
                platform,
                confirming(world, account_id=who.account_id, booking_id=booking_id),
                tally,
                lock,
            )
            cancel = Tally()
            one_request(
                platform,
                cancelling(
                    world, account_id=who.account_id, booking_id=booking_id, seed=rng.random()
                ),
                cancel,
                lock,
            )
            with lock:
                tally.add(cancel)
            cancelled = slot_id if cancel.ok else None

    def run_clock() -> None:
        barrier.wait(timeout=60)
        while not done.is_set() and clock.now() < clock_stop:
            clock.advance(dt.timedelta(minutes=1))
            time.sleep(0.005)

    def run_sweeps() -> None:
        barrier.wait(timeout=60)
        while not done.is_set():
            one_request(
                platform,
                lambda db: sweeps.sweep(
                    db,
                    now=clock.now(),
                    policy=booking_policy(platform.settings),
                    rng=random.Random(),
                ),
                sweeps_run,
                lock,
            )
            time.sleep(0.02)

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=CYCLERS + 2) as pool:
        background = [pool.submit(run_clock), pool.submit(run_sweeps)]
        for future in [pool.submit(cycle, who) for who in cyclers]:
            future.result()
        done.set()
        for future in background:
            future.result()
    seconds = time.perf_counter() - started

    db = fresh(world.db)
    statuses = Counter(b.status.value for b in db.scalars(select(Booking)))
    returned = holds_after_cooling(db, slot_ids)
    print(
        f"\n[{backend}] {CYCLERS} threads x 3 hold/confirm/cancel cycles on {POOL_SLOTS} slots "
        f"in {seconds:.2f}s (clock +{clock.now() - clock_started}): {len(tally.ok)} ok, "
        f"refused: {tally.codes()}; bookings {dict(sorted(statuses.items()))}; "
        f"{returned} holds on re-released slots; {len(sweeps_run.ok)} sweeps"
    )
    assert tally.unexpected == [] and sweeps_run.unexpected == []
    assert not sweeps_run.refused
    assert tally.statuses <= {409}, tally.refused
    assert statuses[BookingStatus.CANCELLED.value] > 0, "no cycle got through"
    assert returned > 0, "no cancelled slot came back: the clock did not do its part"
    assert_pool_is_sound(db, slot_ids)


# -- a race replayed step by step --------------------------------------------------------


def test_a_stale_read_of_a_due_cooling_slot_cannot_re_release_it_after_a_new_cancellation(
    world: World,
) -> None:
    """Request A reads a cooling slot whose re-release is due; before A settles it, B
    holds it, cancels, and the slot cools again with a new drawn delay. A's settle must
    not re-release that new cooling early (the compare-and-set names the due time)."""
    session = world.session(capacity=1)
    slot_id = world.slots(session)[0].id
    first_account, first = world.patient()
    second_account, second = world.patient()
    platform, clock = world.platform, world.platform.clock

    def run(call: Request) -> object:
        tally = Tally()
        one_request(platform, call, tally, threading.Lock())
        assert tally.unexpected == [] and not tally.refused, tally
        return tally.ok[0]

    def hold_and_cancel(account_id: int, patient_id: int) -> None:
        booking_id = str(
            run(holding(world, account_id=account_id, patient_id=patient_id, slot_id=slot_id))
        )
        run(cancelling(world, account_id=account_id, booking_id=booking_id, seed=1.0))

    hold_and_cancel(first_account.id, first.id)
    with platform.sessions() as reader:
        stale = booking_repo.get_slot(reader, slot_id)
        reader.commit()  # A's read is done; its transaction may end (SQLite) or not (PG)
    assert stale is not None and stale.state == SlotState.COOLING and stale.reopen_at
    clock.set(stale.reopen_at)
    hold_and_cancel(second_account.id, second.id)  # B, straight from COOLING

    with platform.sessions() as a:
        transitions.settle_slot(
            a, slot=stale, session=booking_repo.get_session(a, session.id), now=clock.now()
        )
        a.commit()

    db = fresh(world.db)
    slot = booking_repo.get_slot(db, slot_id)
    assert slot is not None and slot.state == SlotState.COOLING
    assert slot.reopen_at is not None and slot.reopen_at > clock.now()
    assert_pool_is_sound(db, [slot_id])
