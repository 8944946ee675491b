"""Every booking-side query. State changes are compare-and-set: they name the state they
expect and report whether exactly one row changed, so two racing requests cannot both win
(same on SQLite and PostgreSQL; the partial unique indexes are the last guard)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Connection,
    Select,
    Update,
    and_,
    bindparam,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Session, make_transient_to_detached

from fairslot.availability.repository import session_on_sale, someone_waiting
from fairslot.bookings import confirm_statement, hold_statement
from fairslot.bookings.models import Booking
from fairslot.bookings.states import OCCUPYING, PENDING, BookingStatus
from fairslot.db.core import among, core_connection
from fairslot.hospitals.models import Department, Doctor, Hospital
from fairslot.ledger import repository as ledger_repo
from fairslot.patients.models import Account, Binding, Patient
from fairslot.schedules.models import ClinicSession, Slot
from fairslot.schedules.states import SessionStatus, SlotState


@dataclass(frozen=True)
class Claimed:
    """A slot a claim moved to HELD, and what it was just before: ``was`` (OPEN, or
    COOLING past its drawn re-release time ``reopen_at``) and whether its ``released``
    ledger entry had been written (``release_logged``), so that the caller writes the
    ledger rows the move makes due, in order, in the same transaction."""

    slot_id: str
    was: SlotState
    reopen_at: datetime | None
    release_logged: bool
    # The claimed slot's number and times, as the claim returned them (what the hold's
    # answer shows, not read again); None from a caller that did not ask.
    number: int | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None


def _claim_on_sqlite(connection: Connection, params: dict[str, object]) -> Claimed | None:
    """SQLite's claim: move a claimable slot to HELD — ``params["slot_id"]``, or the
    lowest-numbered claimable slot of ``params["in_session"]`` — by reading it, then the
    compare-and-set of :func:`claim_statement`; None when there is none. SQLite
    serialises writers (every write transaction begins IMMEDIATE), so the read and the
    compare-and-set cannot be raced. PostgreSQL's claim is one statement inside the
    hold's (``hold_statement.py``): by session it skips the rows other claims have locked
    (``SKIP LOCKED``), so a hold by session fails only when every slot is taken or being
    taken."""
    by_session = "in_session" in params
    row = connection.execute(_pick_statement(by_session=by_session), params).one_or_none()
    if row is not None and not _one(
        connection.execute(claim_statement(), {**params, "slot_id": row[0]})
    ):
        row = None
    return None if row is None else _claimed(row)


def _claimed(row: Any) -> Claimed:
    return Claimed(
        slot_id=row[0],
        was=row[1],
        reopen_at=row[2],
        release_logged=bool(row[3]),
        number=row[4],
        starts_at=row[5],
        ends_at=row[6],
    )


def _claimable(
    now: BindParameter[datetime], *, session: BindParameter[int] | None = None
) -> ColumnElement[bool]:
    """A slot a channel's hold may claim at ``now``: the session is active, released, not
    yet closed and on sale (first-come, or its release draw or batch has run); the slot
    is OPEN, or COOLING past its drawn re-release time with nobody on the session's
    waitlist (a returned slot is the waitlist's first: the sweeper books it for them);
    it is not reserved for another channel, or that reservation has lapsed.

    A HELD slot whose hold lapsed is not claimable: it cools for a drawn delay first,
    written by the sweeper (``sweeps.py``) from the hold's expiry instant.

    ``session``: the claim is by session (``Slot.session_id`` is this parameter), so the
    session's part is asked once for the statement, not once per candidate slot (on
    PostgreSQL an InitPlan instead of a semi-join per open slot)."""
    gate = (
        select(ClinicSession.id)
        .where(
            ClinicSession.id == (Slot.session_id if session is None else session),
            ClinicSession.status == SessionStatus.ACTIVE,
            ClinicSession.release_at <= now,
            ClinicSession.closes_at > now,
            session_on_sale(),
        )
        .exists()
    )
    return and_(
        or_(
            Slot.state == SlotState.OPEN,
            and_(Slot.state == SlotState.COOLING, Slot.reopen_at <= now, ~someone_waiting()),
        ),
        or_(
            Slot.reserved_channel_id.is_(None),
            Slot.reserved_channel_id == bindparam("channel_id"),
            Slot.reserved_until <= now,
        ),
        gate,
    )


@cache
def _pick_statement(
    *, by_session: bool
) -> Select[str, SlotState, datetime | None, bool, int, datetime, datetime]:
    """The slot a claim would take, with what it was and its number and times (see
    :class:`Claimed`)."""
    in_session: BindParameter[int] = bindparam("in_session")
    target = Slot.session_id == in_session if by_session else Slot.id == bindparam("slot_id")
    return (
        select(
            Slot.id,
            Slot.state,
            Slot.reopen_at,
            Slot.release_logged,
            Slot.number,
            Slot.starts_at,
            Slot.ends_at,
        )
        .where(target, _claimable(bindparam("now"), session=in_session if by_session else None))
        .order_by(Slot.number)
        .limit(1)
    )


@cache
def claim_statement(*, by_session: bool = False, old_values: bool = False) -> Update:
    """The claim: one compare-and-set UPDATE. The whole release gate is in its WHERE
    clause (:func:`_claimable`).

    Plain (``old_values=False``): ``UPDATE slots … WHERE id = :slot_id AND <claimable>``,
    the form SQLite runs and the bench's raw limit measures. With ``old_values`` (for
    PostgreSQL): the slot is picked by a ``SELECT … FOR UPDATE`` (``SKIP LOCKED`` by
    session) in a CTE and the UPDATE returns what it was, in one round trip; by slot, a
    racing claim waits for the first and then finds the slot no longer claimable.

    The slot's ``released`` entry is marked written here too; the caller writes it when
    the claim says it was not. Built once per form, with named parameters (building it
    cost more CPU than running it).
    """
    now: BindParameter[datetime] = bindparam("now")
    values = {
        "state": SlotState.HELD,
        "hold_expires_at": bindparam("hold_until"),
        "reopen_at": None,
        "release_logged": True,
        "version": Slot.version + 1,
    }
    if not old_values:
        return update(Slot).where(Slot.id == bindparam("slot_id"), _claimable(now)).values(values)
    pick = (
        _pick_statement(by_session=by_session)
        .with_for_update(of=Slot, skip_locked=by_session)
        .cte("pick")
    )
    return (
        update(Slot)
        .where(Slot.id == pick.c.id)
        .values(values)
        .returning(
            Slot.id,
            pick.c.state,
            pick.c.reopen_at,
            pick.c.release_logged,
            Slot.number,
            Slot.starts_at,
            Slot.ends_at,
        )
    )


def move_slot(
    db: Session,
    *,
    slot_id: str,
    expected: Collection[SlotState],
    target: SlotState,
    **values: Any,
) -> bool:
    # On the session's connection: a compare-and-set needs nothing of the ORM (db/core.py).
    result = core_connection(db).execute(
        update(Slot)
        .where(Slot.id == slot_id, among(Slot.state, expected))
        .values(state=target, version=Slot.version + 1, **values)
    )
    return _one(result)


def reopen_slot(db: Session, *, slot_id: str, now: datetime) -> bool:
    """Move a COOLING slot whose drawn re-release time has come back to OPEN.

    The due time is part of the compare-and-set: between a caller's read and this update
    the slot may have been claimed, cancelled and put to cool again with a new delay,
    which must not be cut short.
    """
    result = db.execute(
        update(Slot)
        .where(Slot.id == slot_id, Slot.state == SlotState.COOLING, Slot.reopen_at <= now)
        .values(state=SlotState.OPEN, reopen_at=None, version=Slot.version + 1)
        .execution_options(synchronize_session=False)
    )
    return _one(result)


def move_booking(
    db: Session,
    *,
    booking_id: str,
    expected: BookingStatus,
    target: BookingStatus,
    extra_where: Sequence[Any] = (),
    **values: Any,
) -> bool:
    result = core_connection(db).execute(
        update(Booking)
        .where(Booking.id == booking_id, Booking.status == expected, *extra_where)
        .values(status=target, version=Booking.version + 1, **values)
    )
    return _one(result)


def _one(result: Any) -> bool:
    return int(result.rowcount) == 1


def get_booking(db: Session, booking_id: str, *, for_update: bool = False) -> Booking | None:
    stmt = select(Booking).where(Booking.id == booking_id)
    if for_update:
        stmt = stmt.with_for_update()
    return db.scalars(stmt).one_or_none()


@dataclass(frozen=True)
class BookingPlace:
    """A booking, freshly read, with its slot, its session and the hospital's time zone."""

    booking: Booking
    slot: Slot
    session: ClinicSession
    timezone: str


@cache
def _booking_place() -> Select[Booking, Slot, ClinicSession, str]:
    return (
        select(Booking, Slot, ClinicSession, Hospital.timezone)
        .join(Slot, Slot.id == Booking.slot_id)
        .join(ClinicSession, ClinicSession.id == Booking.session_id)
        .join(Hospital, Hospital.id == ClinicSession.hospital_id)
        .where(Booking.id == bindparam("booking_id"))
        .execution_options(populate_existing=True)
    )


def booking_place(db: Session, booking_id: str) -> BookingPlace | None:
    """What a booking's view shows, in one round trip (every hold and confirmation
    answers with it)."""
    row = db.execute(_booking_place(), {"booking_id": booking_id}).one_or_none()
    if row is None:
        return None
    return BookingPlace(booking=row[0], slot=row[1], session=row[2], timezone=str(row[3]))


def get_slot(db: Session, slot_id: str) -> Slot | None:
    return db.get(Slot, slot_id, populate_existing=True)


@dataclass(frozen=True)
class SlotPlace:
    """A slot's session, number, times and hospital zone: what the hospital's feed says of
    a confirmed booking, and all a booking's view needs besides the booking."""

    session: ClinicSession
    number: int
    starts_at: datetime
    ends_at: datetime
    timezone: str


@cache
def _slot_place() -> Select[ClinicSession, int, datetime, datetime, str]:
    return (
        select(ClinicSession, Slot.number, Slot.starts_at, Slot.ends_at, Hospital.timezone)
        .join(Slot, Slot.session_id == ClinicSession.id)
        .join(Hospital, Hospital.id == ClinicSession.hospital_id)
        .where(Slot.id == bindparam("slot_id"))
    )


def slot_place(db: Session, *, slot_id: str) -> SlotPlace | None:
    """A slot's :class:`SlotPlace`, in one round trip."""
    row = db.execute(_slot_place(), {"slot_id": slot_id}).one_or_none()
    if row is None:
        return None
    return SlotPlace(
        session=row[0], number=int(row[1]), starts_at=row[2], ends_at=row[3], timezone=str(row[4])
    )


@cache
def _bound_patient(*, of_channel: bool) -> Select[Patient]:
    account_id: BindParameter[int] = bindparam("account_id")
    account = and_(Account.id == Binding.account_id, Account.id == account_id)
    if of_channel:
        account = and_(account, Account.channel_id == bindparam("channel_id"))
    return (
        select(Patient)
        .join(Binding, and_(Binding.patient_id == Patient.id, Binding.account_id == account_id))
        .join(Account, account)
        .where(Patient.id == bindparam("patient_id"))
    )


def bound_patient(
    db: Session, *, account_id: int, patient_id: int, channel_id: int | None
) -> Patient | None:
    """The patient, if the account exists (is the channel's, when one is given) and is
    bound to them; None otherwise (the binding check then says which refusal applies)."""
    params: dict[str, object] = {"account_id": account_id, "patient_id": patient_id}
    if channel_id is not None:
        params["channel_id"] = channel_id
    return db.scalars(_bound_patient(of_channel=channel_id is not None), params).one_or_none()


def get_session(db: Session, session_id: int) -> ClinicSession | None:
    return db.get(ClinicSession, session_id)


def occupying_for_slot(db: Session, slot_id: str) -> Booking | None:
    return db.scalars(
        select(Booking).where(Booking.slot_id == slot_id, Booking.status.in_(list(OCCUPYING)))
    ).one_or_none()


def stale_holds(
    db: Session,
    *,
    now: datetime,
    slot_id: str | None = None,
    patient_id: int | None = None,
    limit: int = 500,
) -> list[Booking]:
    stmt = select(Booking).where(Booking.status == BookingStatus.HELD, Booking.expires_at <= now)
    if slot_id is not None:
        stmt = stmt.where(Booking.slot_id == slot_id)
    if patient_id is not None:
        stmt = stmt.where(Booking.patient_id == patient_id)
    return list(db.scalars(stmt.order_by(Booking.expires_at).limit(limit)))


@dataclass(frozen=True)
class PatientHistory:
    """What the per-patient booking rules count, read in one round trip.

    A hold whose payment time has passed (``lapsed_holds``) is not counted: it no longer
    holds anything, though the sweeper may not have written its expiry yet."""

    no_show_times: list[datetime]  # when the missed sessions started, since the window
    same_day_departments: list[int]  # departments of occupying bookings on the day
    pending_future: int  # held or booked, from today on
    lapsed_holds: list[str]  # ids of the patient's HELD bookings past ``expires_at``


@cache
def _patient_history() -> Select[str, BookingStatus, date, int, datetime, datetime]:
    return select(*_HISTORY_COLUMNS).where(
        Booking.patient_id == bindparam("patient_id"), _counted()
    )


# The session's start is read per booking found, not joined: planning the join with the
# bookings of a release burst took 1–13 ms a statement (the patient's history took 5.5 ms
# of planning a hold; README round 8), planning one patient's rows by patient_id 0.6.
_HISTORY_COLUMNS = (
    Booking.id,
    Booking.status,
    Booking.session_date,
    Booking.department_id,
    select(ClinicSession.starts_at)
    .where(ClinicSession.id == Booking.session_id)
    .scalar_subquery()
    .label("starts_at"),
    Booking.expires_at,
)


def _counted() -> ColumnElement[bool]:
    """A booking the per-patient rules count (:class:`PatientHistory`), by its parameters
    ``no_show_from``, ``day`` and ``today``. A no-show is asked by its session's date,
    from a day before the window's first (a session's local date is within a day of its
    UTC start's); :func:`_history` keeps those that started in the window."""
    no_show = and_(
        Booking.status == BookingStatus.NO_SHOW, Booking.session_date >= bindparam("no_show_from")
    )
    same_day = and_(Booking.session_date == bindparam("day"), among(Booking.status, OCCUPYING))
    pending = and_(among(Booking.status, PENDING), Booking.session_date >= bindparam("today"))
    return or_(no_show, same_day, pending)


def _window(day: date, today: date, no_show_since: datetime) -> dict[str, object]:
    return {
        "day": day,
        "today": today,
        "no_show_from": no_show_since.astimezone(UTC).date() - timedelta(days=1),
    }


def patient_history(
    db: Session, *, patient_id: int, day: date, today: date, no_show_since: datetime, now: datetime
) -> PatientHistory:
    """What the per-patient rules count (no-shows in the window, bookings on the day,
    pending bookings from today on) in one query: a hold checks all three, and a round
    trip costs more than the few rows. Holds lapsed by ``now`` are listed apart."""
    rows = (
        core_connection(db)
        .execute(
            _patient_history(),
            {"patient_id": patient_id, **_window(day, today, no_show_since)},
        )
        .all()
    )
    return _history(rows, day=day, today=today, no_show_since=no_show_since, now=now)


@cache
def _bound_with_history(*, of_channel: bool) -> Select[Any]:
    # The patient's bookings by the parameter, not by a join clause with ``patients``: a
    # join clause would be planned (and its selectivity estimated) on every execution.
    counted = and_(Booking.patient_id == bindparam("patient_id"), _counted())
    return (
        _bound_patient(of_channel=of_channel)
        .add_columns(*_HISTORY_COLUMNS)
        .outerjoin(Booking, counted)
    )


def bound_patient_with_history(
    db: Session,
    *,
    account_id: int,
    patient_id: int,
    channel_id: int | None,
    day: date,
    today: date,
    no_show_since: datetime,
    now: datetime,
) -> tuple[Patient, PatientHistory] | None:
    """:func:`bound_patient` and :func:`patient_history` in one statement (a hold asks
    both, after it took the patient's lock): the patient, if bound, with what the rules
    count; None otherwise."""
    params: dict[str, object] = {
        "account_id": account_id,
        "patient_id": patient_id,
        **_window(day, today, no_show_since),
    }
    if channel_id is not None:
        params["channel_id"] = channel_id
    rows = db.execute(_bound_with_history(of_channel=channel_id is not None), params).all()
    if not rows:
        return None
    counted = [tuple(row[1:]) for row in rows if row[1] is not None]
    history = _history(counted, day=day, today=today, no_show_since=no_show_since, now=now)
    return rows[0][0], history


def _history(
    rows: Sequence[Any], *, day: date, today: date, no_show_since: datetime, now: datetime
) -> PatientHistory:
    lapsed = [
        booking_id
        for booking_id, status, _, _, _, expires_at in rows
        if status == BookingStatus.HELD and expires_at <= now
    ]
    live = [row for row in rows if row[0] not in lapsed]
    return PatientHistory(
        no_show_times=[
            starts
            for _, status, _, _, starts, _ in live
            if status == BookingStatus.NO_SHOW and starts >= no_show_since
        ],
        same_day_departments=[
            department
            for _, status, session_date, department, _, _ in live
            if session_date == day and status in OCCUPYING
        ],
        pending_future=sum(
            1
            for _, status, session_date, _, _, _ in live
            if status in PENDING and session_date >= today
        ),
        lapsed_holds=lapsed,
    )


def department_and_timezone(db: Session, *, department_id: int) -> tuple[Department, str]:
    """The department and its hospital's time zone."""
    row = db.execute(
        select(Department, Hospital.timezone)
        .join(Hospital, Hospital.id == Department.hospital_id)
        .where(Department.id == department_id)
    ).one()
    return row[0], str(row[1])


def bookings_for_session(db: Session, session_id: int) -> list[Booking]:
    return list(
        db.scalars(
            select(Booking).where(
                Booking.session_id == session_id, Booking.status.in_(list(PENDING))
            )
        )
    )


def cooling_due(db: Session, *, now: datetime, limit: int = 500) -> list[Slot]:
    return list(
        db.scalars(
            select(Slot)
            .where(Slot.state == SlotState.COOLING, Slot.reopen_at <= now)
            .order_by(Slot.reopen_at)
            .limit(limit)
        )
    )


def mark_release_logged(db: Session, *, slot_id: str) -> bool:
    result = db.execute(
        update(Slot)
        .where(Slot.id == slot_id, Slot.release_logged.is_(False))
        .values(release_logged=True)
        .execution_options(synchronize_session=False)
    )
    return _one(result)


def patient_key(db: Session, patient_id: int) -> str | None:
    return db.scalar(select(Patient.id_hash).where(Patient.id == patient_id))


def claim_and_insert(
    db: Session,
    *,
    claim: dict[str, object],
    booking: Booking,
    rows: list[dict[str, Any]],
) -> Claimed | None:
    """Claim a slot (``claim``: ``channel_id``, ``now``, ``hold_until`` and ``in_session``
    or ``slot_id``), write the new ``booking`` for it and the ledger ``rows`` (the three a
    claim can make due) that the claim made due; None, with nothing written, when there
    was no slot to claim. On PostgreSQL one statement (``hold_statement.py``); on SQLite,
    whose writers are serialised, the claim, the booking's ``INSERT`` and the rows'.

    The booking is made persistent in the session as a flush would have left it (every
    column loaded, its ``slot_id`` the claimed slot's): the unit of work's flush of one
    new object cost about a sixth of a hold's CPU under the release burst (py-spy). A
    unique index's refusal is raised here (``IntegrityError``), as the flush raised it."""
    assert booking.id is not None  # the ledger rows name it
    if booking.version is None:
        booking.version = 1
    values = {key: getattr(booking, key) for key in _BOOKING_COLUMNS}
    connection = core_connection(db)
    claimed: Claimed | None
    if connection.dialect.name == "postgresql":
        row = connection.execute(
            hold_statement.statement(
                claim_statement(by_session="in_session" in claim, old_values=True)
            ),
            hold_statement.parameters(claim, values, rows),
        ).one_or_none()
        claimed = None if row is None else _claimed(row)
    else:
        claimed = _claim_on_sqlite(connection, claim)
        if claimed is not None:
            connection.execute(_INSERT_BOOKING, {**values, "slot_id": claimed.slot_id})
            due = hold_statement.due_rows(
                rows,
                slot_id=claimed.slot_id,
                was=claimed.was,
                reopen_at=claimed.reopen_at,
                release_logged=claimed.release_logged,
            )
            ledger_repo.append(db, rows=due)
    if claimed is None:
        return None
    values["slot_id"] = claimed.slot_id
    for key, value in values.items():  # an attribute never set would be loaded again
        setattr(booking, key, value)
    make_transient_to_detached(booking)
    db.add(booking)
    return claimed


def confirm_writes(
    db: Session,
    *,
    booking_id: str,
    slot_id: str,
    now: datetime,
    payment: dict[str, str],
    row: dict[str, Any],
) -> tuple[bool, bool]:
    """A confirmation's compare-and-sets and its ledger ``row``: the HELD booking, not
    expired at ``now``, to BOOKED with its ``payment`` (``payment_account_hash``,
    ``payment_account_masked``, ``payment_reference``); then its HELD slot to BOOKED; then
    the row. Says whether the booking moved and whether the slot did; what follows a
    failed move is not written. On PostgreSQL one statement (``confirm_statement.py``);
    on SQLite the two compare-and-sets, then the row."""
    connection = core_connection(db)
    if connection.dialect.name == "postgresql":
        moved, taken = connection.execute(
            confirm_statement.statement(),
            {
                "booking_id": booking_id,
                "now": now,
                **payment,
                **confirm_statement.event_parameters("e", row),
            },
        ).one()
        return moved == 1, taken == 1
    if not move_booking(
        db,
        booking_id=booking_id,
        expected=BookingStatus.HELD,
        target=BookingStatus.BOOKED,
        extra_where=[Booking.expires_at > now],
        booked_at=now,
        **payment,
    ):
        return False, False
    if not move_slot(
        db, slot_id=slot_id, expected=[SlotState.HELD], target=SlotState.BOOKED,
        hold_expires_at=None,
    ):  # fmt: skip
        return True, False
    ledger_repo.append(db, rows=[row])
    return True, True


_BOOKING_COLUMNS = tuple(attr.key for attr in sa_inspect(Booking).column_attrs)
_INSERT_BOOKING = insert(Booking).values({key: bindparam(key) for key in _BOOKING_COLUMNS})


def lock_patient(db: Session, *, patient_id: int) -> None:
    """Take the patient's row lock for the rest of the transaction (a write to its guard
    column): the hold's first statement, so that an unbind cannot slip in."""
    core_connection(db).execute(_LOCK_PATIENT, {"patient_id": patient_id})


_LOCK_PATIENT = (
    update(Patient)
    .where(Patient.id == bindparam("patient_id"))
    .values(booking_guard=Patient.booking_guard + 1)
)


def hospital_timezone(db: Session, hospital_id: int) -> str:
    return str(db.scalar(select(Hospital.timezone).where(Hospital.id == hospital_id)))


@dataclass(frozen=True)
class AccountBookingRow:
    """One of an account's bookings with what a person reads about it."""

    booking: Booking
    slot: Slot
    session: ClinicSession
    timezone: str
    hospital_name: str
    department_name: str
    doctor_name: str
    patient_name: str


def account_bookings(
    db: Session, *, account_id: int, channel_id: int, limit: int, offset: int
) -> list[AccountBookingRow]:
    """The bookings the account made through the channel, latest visit first (a channel
    sees only what it booked, as ``get_booking`` does)."""
    stmt = (
        select(
            Booking,
            Slot,
            ClinicSession,
            Hospital.timezone,
            Hospital.name,
            Department.name,
            Doctor.name,
            Patient.name_masked,
        )
        .join(Slot, Slot.id == Booking.slot_id)
        .join(ClinicSession, ClinicSession.id == Booking.session_id)
        .join(Hospital, Hospital.id == ClinicSession.hospital_id)
        .join(Department, Department.id == ClinicSession.department_id)
        .join(Doctor, Doctor.id == ClinicSession.doctor_id)
        .join(Patient, Patient.id == Booking.patient_id)
        .where(Booking.account_id == account_id, Booking.channel_id == channel_id)
        .order_by(Slot.starts_at.desc(), Booking.id)
        .limit(limit)
        .offset(offset)
    )
    return [
        AccountBookingRow(
            booking=row[0],
            slot=row[1],
            session=row[2],
            timezone=str(row[3]),
            hospital_name=str(row[4]),
            department_name=str(row[5]),
            doctor_name=str(row[6]),
            patient_name=str(row[7]),
        )
        for row in db.execute(stmt).all()
    ]
