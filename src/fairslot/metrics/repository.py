"""Every query of the quality metrics. Core selects only, the same on SQLite and PostgreSQL.

Request records can run to a million a day at a release, so they are never read row by
row: each query groups them by local day in the database. The local day is a ``CASE``
over the UTC instants the report's days start at (``Period.starts``), which is plain SQL
on both backends and right across daylight-saving shifts, where date arithmetic on a
time zone would be dialect-specific.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.orm import Session, aliased

from fairslot.allocation.states import AllocationMode
from fairslot.audit.models import RequestRecord
from fairslot.blacklist.models import BlacklistEntry, Scope
from fairslot.bookings.models import Booking
from fairslot.bookings.states import BookingStatus
from fairslot.channels.models import Channel
from fairslot.hospitals.models import Department, Hospital
from fairslot.metrics.facts import DAY, Activity, AttemptRecord, Attendance, Ban, Period
from fairslot.patients.models import Account, Patient
from fairslot.risk.linking import SessionSupply
from fairslot.risk.repository import OCCUPIED_SLOT
from fairslot.schedules.models import ClinicSession, Slot

STREAM_ROWS = 20_000
# Requests that try to book: a hold, or an intent for a release draw (the draw then holds
# and pays for its winners itself, without a request of theirs).
ATTEMPT_ACTIONS = ("hold", "intent")

_SLOT_SESSION = aliased(ClinicSession)
_BOOKING_SESSION = aliased(ClinicSession)
_RECORD_BOOKING = aliased(Booking)
# The hospital a request record names: its slot's, else its booking's (None: neither).
_RECORD_HOSPITAL = func.coalesce(_SLOT_SESSION.hospital_id, _BOOKING_SESSION.hospital_id)


@dataclass(frozen=True, kw_only=True)
class BookingRow:
    """A confirmed booking with what the figures need, identifiers still as stored."""

    booking_id: str
    channel_id: int
    account_id: int
    hospital_id: int
    session_id: int
    held_at: datetime
    booked_at: datetime
    patient_key: str
    patient_phone: str
    account_phone: str
    device_key: str | None
    payment_hash: str | None


def activity(
    db: Session, *, period: Period, tz: str, hospital_id: int | None, channel_id: int | None
) -> list[Activity]:
    """Distinct (account, local day, channel, hospital named) of the period's request
    records that name an account."""
    starts = period.starts(tz)
    day = _day_index(RequestRecord.at, starts)
    statement = (
        _records(select(RequestRecord.account_id, day, RequestRecord.channel_id, _RECORD_HOSPITAL))
        .where(RequestRecord.account_id.is_not(None), *_between(RequestRecord.at, starts))
        .where(*_filters((_RECORD_HOSPITAL, hospital_id), (RequestRecord.channel_id, channel_id)))
        .distinct()
    )
    return [
        Activity(account_id=account, day=period.first + i * DAY, channel_id=channel, hospital_id=h)
        for account, i, channel, h in _stream(db, statement)
    ]


def attempt_records(
    db: Session, *, period: Period, tz: str, channel_id: int | None
) -> list[AttemptRecord]:
    """The first hold or intent request per (channel, account, patient, local day, hospital
    named). Not narrowed to a hospital: a hold refused before it named a slot still starts
    the attempt that later books there."""
    starts = period.starts(tz)
    named = (
        _records(
            select(
                RequestRecord.channel_id,
                RequestRecord.account_id,
                RequestRecord.patient_key,
                RequestRecord.at,
                _day_index(RequestRecord.at, starts).label("day"),
                _RECORD_HOSPITAL.label("hospital_id"),
            )
        )
        .where(
            RequestRecord.action.in_(ATTEMPT_ACTIONS),
            RequestRecord.account_id.is_not(None),
            RequestRecord.patient_key.is_not(None),
            *_between(RequestRecord.at, starts),
            *_filters((RequestRecord.channel_id, channel_id)),
        )
        .subquery()
    )
    # Grouped outside: PostgreSQL cannot match a GROUP BY to a CASE of bound parameters.
    keys = (named.c.channel_id, named.c.account_id, named.c.patient_key, named.c.day)
    statement = select(*keys, named.c.hospital_id, func.min(named.c.at)).group_by(
        *keys, named.c.hospital_id
    )
    return [
        AttemptRecord(
            channel_id=channel,
            account_id=account,
            patient_key=patient,
            day=period.first + i * DAY,
            hospital_id=hospital,
            first_at=first_at,
        )
        for channel, account, patient, i, hospital, first_at in _stream(db, statement)
    ]


def _confirmed_in(starts: Sequence[datetime]) -> ColumnElement[bool]:
    """Paid bookings held or confirmed in the period (one index per branch)."""
    return and_(
        Booking.booked_at.is_not(None),
        or_(and_(*_between(Booking.held_at, starts)), and_(*_between(Booking.booked_at, starts))),
    )


def confirmed_bookings(
    db: Session, *, period: Period, tz: str, hospital_id: int | None, channel_id: int | None
) -> list[BookingRow]:
    starts = period.starts(tz)
    statement = (
        select(
            Booking.id,
            Booking.channel_id,
            Booking.account_id,
            ClinicSession.hospital_id,
            Booking.session_id,
            Booking.held_at,
            Booking.booked_at,
            Patient.id_hash,
            Patient.phone_hash,
            Account.phone_hash,
            Booking.device_key,
            Booking.payment_account_hash,
        )
        .join(ClinicSession, ClinicSession.id == Booking.session_id)
        .join(Patient, Patient.id == Booking.patient_id)
        .join(Account, Account.id == Booking.account_id)
        .where(_confirmed_in(starts))
        .where(
            *_filters((ClinicSession.hospital_id, hospital_id), (Booking.channel_id, channel_id))
        )
    )
    return [
        BookingRow(
            booking_id=id_,
            channel_id=channel,
            account_id=account,
            hospital_id=hospital,
            session_id=session_id,
            held_at=held_at,
            booked_at=booked_at,
            patient_key=patient_key,
            patient_phone=patient_phone,
            account_phone=account_phone,
            device_key=device_key,
            payment_hash=payment_hash,
        )
        for (
            id_,
            channel,
            account,
            hospital,
            session_id,
            held_at,
            booked_at,
            patient_key,
            patient_phone,
            account_phone,
            device_key,
            payment_hash,
        ) in _stream(db, statement)
    ]


def session_supply(
    db: Session, *, period: Period, tz: str, hospital_id: int | None, channel_id: int | None
) -> dict[int, SessionSupply]:
    """The sessions of :func:`confirmed_bookings`: allocation mode, capacity and slots
    taken now — what ``risk/linking.py::is_scarce`` judges scarcity by."""
    starts = period.starts(tz)
    sessions = (
        select(Booking.session_id)
        .join(ClinicSession, ClinicSession.id == Booking.session_id)
        .where(_confirmed_in(starts))
        .where(
            *_filters((ClinicSession.hospital_id, hospital_id), (Booking.channel_id, channel_id))
        )
        .distinct()
    )
    taken = (
        select(Slot.session_id, func.count().label("taken"))
        .where(Slot.session_id.in_(sessions), Slot.state.in_(OCCUPIED_SLOT))
        .group_by(Slot.session_id)
        .subquery()
    )
    statement = (
        select(
            ClinicSession.id,
            Department.allocation_mode,
            ClinicSession.capacity,
            func.coalesce(taken.c.taken, 0),
        )
        .join(Department, Department.id == ClinicSession.department_id)
        .outerjoin(taken, taken.c.session_id == ClinicSession.id)
        .where(ClinicSession.id.in_(sessions))
    )
    return {
        session_id: SessionSupply(
            session_id=session_id,
            draw_mode=mode is AllocationMode.DRAW,
            capacity=capacity,
            occupied=occupied,
        )
        for session_id, mode, capacity, occupied in _stream(db, statement)
    }


def attendance(
    db: Session, *, period: Period, hospital_id: int | None, channel_id: int | None
) -> list[Attendance]:
    """Check-ins and no-shows of the bookings of sessions dated in the period."""
    outcome = (BookingStatus.CHECKED_IN, BookingStatus.NO_SHOW)
    keys = (ClinicSession.hospital_id, Booking.channel_id, Booking.session_date)
    statement = (
        select(*keys, Booking.status, func.count())
        .join(ClinicSession, ClinicSession.id == Booking.session_id)
        .where(
            Booking.session_date >= period.first,
            Booking.session_date <= period.last,
            Booking.status.in_(outcome),
        )
        .where(
            *_filters((ClinicSession.hospital_id, hospital_id), (Booking.channel_id, channel_id))
        )
        .group_by(*keys, Booking.status)
    )
    counts: dict[tuple[int, int, date], dict[BookingStatus, int]] = {}
    for hospital, channel, day, status, n in _stream(db, statement):
        counts.setdefault((hospital, channel, day), {})[status] = n
    return [
        Attendance(
            hospital_id=hospital,
            channel_id=channel,
            day=day,
            checked_in=n.get(BookingStatus.CHECKED_IN, 0),
            no_show=n.get(BookingStatus.NO_SHOW, 0),
        )
        for (hospital, channel, day), n in counts.items()
    ]


def bans(db: Session, *, scopes: Iterable[str]) -> list[Ban]:
    """Every blacklist entry of ``scopes`` ever made, lifted and expired ones included."""
    statement = select(
        BlacklistEntry.scope,
        BlacklistEntry.key_hash,
        BlacklistEntry.created_at,
        BlacklistEntry.lifted_at,
        BlacklistEntry.expires_at,
    ).where(BlacklistEntry.scope.in_([Scope(s) for s in scopes]))
    return [
        Ban(
            scope=scope.value,
            key=key,
            created_at=created,
            ends_at=min((t for t in (lifted, expires) if t is not None), default=None),
        )
        for scope, key, created, lifted, expires in _stream(db, statement)
    ]


def hospital_labels(db: Session) -> dict[int, tuple[str, str]]:
    """Every hospital's code and name, by id (a city's hospitals: a small table)."""
    rows = db.execute(select(Hospital.id, Hospital.code, Hospital.name))
    return {id_: (code, name) for id_, code, name in rows}


def channel_labels(db: Session) -> dict[int, tuple[str, str]]:
    rows = db.execute(select(Channel.id, Channel.code, Channel.name))
    return {id_: (code, name) for id_, code, name in rows}


def _records(statement: Any) -> Any:
    """``statement`` over request records joined to the hospital they name."""
    return (
        statement.select_from(RequestRecord)
        .outerjoin(Slot, Slot.id == RequestRecord.slot_id)
        .outerjoin(_SLOT_SESSION, _SLOT_SESSION.id == Slot.session_id)
        .outerjoin(_RECORD_BOOKING, _RECORD_BOOKING.id == RequestRecord.booking_id)
        .outerjoin(_BOOKING_SESSION, _BOOKING_SESSION.id == _RECORD_BOOKING.session_id)
    )


def _day_index(column: Any, starts: Sequence[datetime]) -> ColumnElement[int]:
    """0 for the period's first local day, 1 for the next …; rows must lie in the period."""
    return case(*((column < end, i) for i, end in enumerate(starts[1:])))


def _between(column: Any, starts: Sequence[datetime]) -> tuple[ColumnElement[bool], ...]:
    return (column >= starts[0], column < starts[-1])


def _filters(*pairs: tuple[Any, int | None]) -> list[ColumnElement[bool]]:
    """``column == value`` for each (column, value) pair whose value is given."""
    return [column == value for column, value in pairs if value is not None]


def _stream(db: Session, statement: Any) -> Iterable[Sequence[Any]]:
    """Rows of a Core select, fetched ``STREAM_ROWS`` at a time (a server-side cursor on
    PostgreSQL) in the session's transaction, without the ORM's per-row machinery."""
    result = db.connection().execute(
        statement.execution_options(stream_results=True, max_row_buffer=STREAM_ROWS)
    )
    for partition in result.partitions(STREAM_ROWS):
        yield from partition
