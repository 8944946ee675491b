"""The queries behind the daily report's pictures (``risk/report_activity.py`` says what
each one means).

Requests and bookings are counted per bucket in the database (a ``CASE`` over the
bucket boundaries, grouped outside it: PostgreSQL cannot match a ``GROUP BY`` to a
``CASE`` of bound parameters), so a busy release hour costs one grouped read, not a
million rows. Bookings are read through ``ix_bookings_booked_at``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any, Final

from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.orm import Session

from fairslot.audit.models import RequestRecord
from fairslot.blacklist.models import BlacklistEntry
from fairslot.bookings.models import Booking
from fairslot.hospitals.models import Department, Hospital
from fairslot.patients.models import Account, Patient
from fairslot.risk.linking import SessionSupply
from fairslot.risk.models import RiskAlert
from fairslot.risk.report_activity import TAKER_SCOPES, Ban, RequestBucket
from fairslot.risk.repository import supply_of

# Requests that only read (a slot radar polls these); every other one acts for a patient.
LOOKUP_ACTIONS: Final = ("availability", "alternatives", "list_patients")
OK: Final = "ok"
RING_RULE: Final = "ring"


def _bucket(column: Any, bounds: Sequence[datetime]) -> ColumnElement[int]:
    """The index of the bucket ``column`` falls in (rows are already limited to
    ``[bounds[0], bounds[-1])``)."""
    return case(
        *((column < upper, i) for i, upper in enumerate(bounds[1:-1])),
        else_=len(bounds) - 2,
    )


def _within(column: Any, bounds: Sequence[datetime]) -> ColumnElement[bool]:
    return and_(column >= bounds[0], column < bounds[-1])


def request_buckets(db: Session, *, bounds: Sequence[datetime]) -> list[RequestBucket]:
    """Channel requests per bucket, look-up or action, refused or not."""
    lookup = RequestRecord.action.in_(LOOKUP_ACTIONS)
    refused = RequestRecord.outcome != OK
    rows = (
        select(
            _bucket(RequestRecord.at, bounds).label("bucket"),
            case((lookup, 1), else_=0).label("lookup"),
            case((refused, 1), else_=0).label("refused"),
        )
        .where(_within(RequestRecord.at, bounds))
        .subquery()
    )
    statement = select(rows.c.bucket, rows.c.lookup, rows.c.refused, func.count()).group_by(
        rows.c.bucket, rows.c.lookup, rows.c.refused
    )
    return [
        RequestBucket(bucket=int(b), lookup=bool(lk), refused=bool(rf), count=int(n))
        for b, lk, rf, n in db.execute(statement).all()
    ]


def booked_buckets(db: Session, *, bounds: Sequence[datetime]) -> list[tuple[int, int]]:
    """(bucket, bookings confirmed in it)."""
    rows = (
        select(_bucket(Booking.booked_at, bounds).label("bucket"))
        .where(_within(Booking.booked_at, bounds))
        .subquery()
    )
    statement = select(rows.c.bucket, func.count()).group_by(rows.c.bucket)
    return [(int(b), int(n)) for b, n in db.execute(statement).all()]


def refusal_counts(db: Session, *, start: datetime, end: datetime) -> list[tuple[str, int]]:
    """(refusal code, requests refused with it) in ``[start, end)``."""
    statement = (
        select(RequestRecord.outcome, func.count())
        .where(RequestRecord.at >= start, RequestRecord.at < end, RequestRecord.outcome != OK)
        .group_by(RequestRecord.outcome)
    )
    return [(str(code), int(n)) for code, n in db.execute(statement).all()]


def release_times(db: Session) -> list[tuple[time, str]]:
    """Every hospital's (release time, zone)."""
    statement = select(Hospital.release_time, Hospital.timezone).distinct()
    return [(at, zone) for at, zone in db.execute(statement).all()]


def supply_of_day(db: Session, *, start: datetime, end: datetime) -> list[SessionSupply]:
    """Each session with a booking confirmed in ``[start, end)``: its allocation mode,
    capacity and how many of its slots are taken now (to judge whether it is scarce)."""
    return supply_of(
        db,
        sessions=select(Booking.session_id).where(
            Booking.booked_at >= start, Booking.booked_at < end
        ),
    )


@dataclass(frozen=True, kw_only=True)
class TakerRow:
    booking_id: str
    session_id: int
    booked_at: datetime
    hospital: str
    department: str
    patient_key: str
    patient_phone: str
    account_id: int
    account_phone: str
    device_key: str | None
    payment_hash: str | None


def bookings_of_day(db: Session, *, start: datetime, end: datetime) -> list[TakerRow]:
    """Bookings confirmed in ``[start, end)`` (whatever became of them since), with the
    identities of who took them."""
    statement = (
        select(
            Booking.id,
            Booking.session_id,
            Booking.booked_at,
            Hospital.name,
            Department.name,
            Patient.id_hash,
            Patient.phone_hash,
            Booking.account_id,
            Account.phone_hash,
            Booking.device_key,
            Booking.payment_account_hash,
        )
        .join(Department, Department.id == Booking.department_id)
        .join(Hospital, Hospital.id == Department.hospital_id)
        .join(Patient, Patient.id == Booking.patient_id)
        .join(Account, Account.id == Booking.account_id)
        .where(Booking.booked_at >= start, Booking.booked_at < end)
    )
    return [
        TakerRow(
            booking_id=booking_id,
            session_id=session_id,
            booked_at=booked_at,
            hospital=hospital,
            department=department,
            patient_key=patient_key,
            patient_phone=patient_phone,
            account_id=account_id,
            account_phone=account_phone,
            device_key=device_key,
            payment_hash=payment_hash,
        )
        for (
            booking_id,
            session_id,
            booked_at,
            hospital,
            department,
            patient_key,
            patient_phone,
            account_id,
            account_phone,
            device_key,
            payment_hash,
        ) in db.execute(statement).all()
        if booked_at is not None  # always: the query reads bookings confirmed in the day
    ]


def bans_since(db: Session, *, start: datetime) -> list[Ban]:
    """Blacklist entries of the taker scopes still in force at ``start`` or made after:
    an entry that ended before the day began cannot mark anyone who booked in it."""
    statement = select(
        BlacklistEntry.scope,
        BlacklistEntry.key_hash,
        BlacklistEntry.lifted_at,
        BlacklistEntry.expires_at,
    ).where(
        BlacklistEntry.scope.in_(sorted(TAKER_SCOPES)),
        or_(BlacklistEntry.lifted_at.is_(None), BlacklistEntry.lifted_at > start),
        or_(BlacklistEntry.expires_at.is_(None), BlacklistEntry.expires_at > start),
    )
    return [
        Ban(scope=str(scope), key=key, ends_at=_earliest(lifted, expires))
        for scope, key, lifted, expires in db.execute(statement).all()
    ]


def _earliest(*moments: datetime | None) -> datetime | None:
    known = [m for m in moments if m is not None]
    return min(known) if known else None


def alert_entities_since(db: Session, *, day: date) -> list[tuple[str, str]]:
    """(entity kind, stored key) of every rule alert from the run of ``day`` on."""
    statement = (
        select(RiskAlert.entity_kind, RiskAlert.entity_key)
        .where(RiskAlert.run_date >= day, RiskAlert.rule != RING_RULE)
        .distinct()
    )
    return [(kind, key) for kind, key in db.execute(statement).all()]


def ring_details_since(db: Session, *, day: date) -> Iterable[dict[str, Any]]:
    """The details of every ring alert from the run of ``day`` on (its members' keys)."""
    statement = select(RiskAlert.details).where(
        RiskAlert.run_date >= day, RiskAlert.rule == RING_RULE
    )
    return [dict(details or {}) for details in db.scalars(statement)]
