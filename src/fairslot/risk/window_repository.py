"""The batch's window, kept in the database, and the bookings read back from it.

A city's week is a million bookings; nearly all of them are ordinary and no rule can fire
on them. Loading every one into Python as a fact to find that out cost most of the batch's
time and memory. Instead the window's bookings are written once into a temporary table
(``risk_window``, the join of bookings, patients and departments that ``in_window`` selects,
gone with the connection), read once as columns (``window_columns_repository.py``), and
each rule family's 7-day count is a numpy grouping over them (``window_columns.py``; the
same on SQLite and PostgreSQL). Only the bookings of the entities a count lets through are
read back as facts, and the pure rules (``risk/rules.py``, ``risk/operators.py``) judge
those exactly as before.

Why the answer cannot change: every pre-filter is a necessary condition of its rule (a
group whose count misses the threshold there misses it in Python too), the bookings read
back are whole groups (every booking of a suspect patient, account, payment account or
device), and they are *patient-closed* (all of a patient's bookings or none), so the one
rule that can lose a hit by seeing more — a cancellation forgiven by a visit — sees every
visit of every patient it judges. ``tests/integration/test_risk_window.py`` runs both
ways over the same history and compares.
"""

from __future__ import annotations

import enum
from collections.abc import Collection, Iterator
from typing import Any

from sqlalchemy import (
    Column,
    Date,
    Enum,
    Integer,
    MetaData,
    String,
    Table,
    func,
    insert,
    select,
    text,
    union,
)
from sqlalchemy.orm import Session

from fairslot.audit.models import RequestRecord
from fairslot.bookings.models import Booking
from fairslot.bookings.states import BookingStatus
from fairslot.db.base import UTCDateTime
from fairslot.hospitals.kinds import SexRestriction
from fairslot.hospitals.models import Department
from fairslot.patients.identity import Sex
from fairslot.patients.models import Account, Binding, Patient
from fairslot.risk.facts import BookingFact
from fairslot.risk.linking import BindingFact
from fairslot.risk.repository import in_window, request_filter, stream, utc
from fairslot.risk.rules import Window

_ATTENDED = {BookingStatus.CHECKED_IN: True, BookingStatus.NO_SHOW: False}


def _enum(cls: type[enum.Enum]) -> Enum:
    return Enum(
        cls,
        native_enum=False,
        create_constraint=False,
        length=32,
        values_callable=lambda c: [m.value for m in c],
    )


# Not in the platform's metadata: a per-connection scratch table, never migrated.
_scratch = MetaData()
W = Table(
    "risk_window",
    _scratch,
    Column("booking_id", String(36)),
    Column("patient_key", String(64)),
    Column("patient_id", Integer),
    Column("account_id", Integer),
    Column("department_id", Integer),
    Column("specialty", String(64)),
    Column("sex_restriction", _enum(SexRestriction)),
    Column("patient_sex", _enum(Sex)),
    Column("session_id", Integer),
    Column("session_date", Date),
    Column("taken_at", UTCDateTime),
    Column("ended_at", UTCDateTime),
    Column("status", _enum(BookingStatus)),
    Column("payment_hash", String(64)),
    Column("device_key", String(128)),
    Column("ip_key", String(64)),
    Column("wifi_key", String(128)),
    Column("phone_hash", String(64)),
    Column("channel_id", Integer),
    Column("id_last4", String(8)),
    Column("payment_masked", String(64)),
    Column("ip_label", String(64)),
    # The row's number, for the columns read (``window_columns``): on SQLite the rowid
    # itself (an INTEGER primary key), numbered as the rows are written.
    Column("row_no", Integer, primary_key=True, autoincrement=False),
    prefixes=["TEMPORARY"],
)
# The bindings the batch reads (of every patient and account of ``risk_window``, as
# the old whole-window reading did): patient, account, the account's phone.
B = Table(
    "risk_window_bindings",
    _scratch,
    Column("patient_key", String(64)),
    Column("account_id", Integer),
    Column("phone_hash", String(64)),
    Column("patient_id", Integer),
    prefixes=["TEMPORARY"],
)
# The window's requests the batch reads (``repository.request_filter``), their identifiers.
R = Table(
    "risk_window_requests",
    _scratch,
    Column("patient_key", String(64)),
    Column("account_id", Integer),
    Column("device_key", String(128)),
    Column("ip_key", String(64)),
    Column("wifi_key", String(128)),
    Column("payment_hash", String(64)),
    Column("channel_id", Integer),
    Column("patient_id", Integer),  # NULL for a key no patient row has
    prefixes=["TEMPORARY"],
)
# Keys the batch holds in Python (a blacklist, candidate patients), to join on.
K = Table("risk_window_keys", _scratch, Column("key", String(128)), prefixes=["TEMPORARY"])
# Numbers the batch holds in Python (patients, rows of ``risk_window``), to join on.
N = Table("risk_window_numbers", _scratch, Column("n", Integer), prefixes=["TEMPORARY"])
_TABLES = (W, B, R, K, N)


def open_window(db: Session, *, window: Window) -> int:
    """Write the window's bookings into ``risk_window`` and the bindings the batch reads
    into ``risk_window_bindings`` (dropping left-over ones first); how many bookings."""
    connection = db.connection()
    for table in _TABLES:
        table.drop(connection, checkfirst=True)
        table.create(connection)
    r = RequestRecord
    connection.execute(
        insert(R).from_select(
            [c.name for c in R.columns],
            select(
                r.patient_key,
                r.account_id,
                r.device_key,
                r.ip_key,
                r.wifi_key,
                r.payment_account_hash,
                r.channel_id,
                Patient.id,
            )
            .outerjoin(Patient, Patient.id_hash == r.patient_key)
            .where(request_filter(window)),
        )
    )
    postgres = connection.dialect.name == "postgresql"
    source = (
        select(
            Booking.id,
            Patient.id_hash,
            Booking.patient_id,
            Booking.account_id,
            Booking.department_id,
            Department.specialty,
            Department.sex_restriction,
            Patient.sex,
            Booking.session_id,
            Booking.session_date,
            func.coalesce(Booking.booked_at, Booking.held_at),
            Booking.ended_at,
            Booking.status,
            Booking.payment_account_hash,
            Booking.device_key,
            Booking.ip_key,
            Booking.wifi_key,
            Patient.phone_hash,
            Booking.channel_id,
            Patient.id_last4,
            Booking.payment_account_masked,
            Booking.ip_label,
            *([func.row_number().over()] if postgres else []),
        )
        .join(Department, Department.id == Booking.department_id)
        .join(Patient, Patient.id == Booking.patient_id)
        .where(in_window(window))
    )
    columns = [c.name for c in W.columns if postgres or c.name != "row_no"]
    connection.execute(insert(W).from_select(columns, source))
    if postgres:
        # Plans over the scratch tables need their size and spread.
        connection.execute(text("ANALYZE risk_window"))
    # The bindings of every patient and every account of the window's bookings (what
    # the batch always read), found from the scratch table just written.
    wanted = union(
        select(Binding.id).where(Binding.patient_id.in_(select(W.c.patient_id))),
        select(Binding.id).where(Binding.account_id.in_(select(W.c.account_id))),
    ).subquery()
    connection.execute(
        insert(B).from_select(
            ["patient_key", "account_id", "phone_hash", "patient_id"],
            select(Patient.id_hash, Binding.account_id, Account.phone_hash, Binding.patient_id)
            .join(wanted, wanted.c.id == Binding.id)
            .join(Patient, Patient.id == Binding.patient_id)
            .join(Account, Account.id == Binding.account_id),
        )
    )
    if postgres:
        connection.execute(text("ANALYZE risk_window_bindings"))
        connection.execute(text("ANALYZE risk_window_requests"))
    return int(connection.execute(select(func.count()).select_from(W)).scalar_one())


def close_window(db: Session) -> None:
    for table in _TABLES:
        table.drop(db.connection(), checkfirst=True)


def binding_count(db: Session) -> int:
    return int(db.execute(select(func.count()).select_from(B)).scalar_one())


def bindings_of(db: Session, *, patients: Collection[str]) -> list[BindingFact]:
    """The bindings the batch reads of ``patients``."""
    _keys(db, patients)
    statement = select(B.c.patient_key, B.c.account_id, B.c.phone_hash).where(
        B.c.patient_key.in_(select(K.c.key))
    )
    return [
        BindingFact(patient_key=key, account_id=account_id, account_phone_hash=phone)
        for key, account_id, phone in stream(db, statement)
    ]


def _numbers(db: Session, numbers: Collection[int]) -> None:
    """Make ``risk_window_numbers`` hold exactly ``numbers``."""
    connection = db.connection()
    connection.execute(N.delete())
    if len(numbers):
        connection.execute(insert(N), [{"n": int(n)} for n in numbers])


def _keys(db: Session, keys: Collection[str]) -> None:
    """Make ``risk_window_keys`` hold exactly ``keys``."""
    connection = db.connection()
    connection.execute(K.delete())
    if keys:
        connection.execute(insert(K), [{"key": key} for key in keys])


# facts read back ------------------------------------------------------------------------


def _fact_columns(db: Session) -> tuple[Any, ...]:
    return (
        W.c.booking_id,
        W.c.patient_key,
        W.c.account_id,
        W.c.department_id,
        W.c.specialty,
        W.c.sex_restriction,
        W.c.patient_sex,
        W.c.session_id,
        W.c.session_date,
        utc(db, W.c.taken_at),
        utc(db, W.c.ended_at),
        W.c.status,
        W.c.payment_hash,
        W.c.device_key,
        W.c.ip_key,
        W.c.wifi_key,
        W.c.phone_hash,
        W.c.channel_id,
    )


def _facts(db: Session, statement: Any) -> Iterator[BookingFact]:
    cancelled = BookingStatus.CANCELLED
    for (
        booking_id,
        patient_key,
        account_id,
        department_id,
        specialty,
        sex_restriction,
        sex,
        session_id,
        session_date,
        taken_at,
        ended_at,
        status,
        payment_hash,
        device_key,
        ip,
        wifi_key,
        phone_hash,
        channel_id,
    ) in stream(db, statement):
        yield BookingFact(
            booking_id=booking_id,
            patient_key=patient_key,
            account_id=account_id,
            department_id=department_id,
            department_specialty=specialty,
            sex_restriction=sex_restriction,
            patient_sex=sex,
            session_id=session_id,
            session_date=session_date,
            booked_at=taken_at,
            cancelled_at=ended_at if status is cancelled else None,
            status=status,
            attended=_ATTENDED.get(status),
            payment_account_hash=payment_hash,
            device_key=device_key,
            ip_key=ip,
            wifi_key=wifi_key,
            phone_hash=phone_hash,
            channel_id=channel_id,
        )


def facts_of_patients(db: Session, *, numbers: Collection[int]) -> list[BookingFact]:
    """Every window booking of the patients numbered ``numbers`` (``patients.id``)."""
    _numbers(db, numbers)
    statement = select(*_fact_columns(db)).where(W.c.patient_id.in_(select(N.c.n)))
    return list(_facts(db, statement))


def facts_of_rows(db: Session, *, rows: Collection[int]) -> list[BookingFact]:
    """The window bookings of the rows ``rows`` of ``risk_window`` (``row_no``)."""
    _numbers(db, rows)
    return list(_facts(db, select(*_fact_columns(db)).where(W.c.row_no.in_(select(N.c.n)))))


def patient_keys_of(db: Session, *, numbers: Collection[int]) -> set[str]:
    """The keys of the patients numbered ``numbers`` (``patients.id``)."""
    _numbers(db, numbers)
    statement = select(Patient.id_hash).where(Patient.id.in_(select(N.c.n)))
    return {key for (key,) in stream(db, statement)}


def facts_with_keys(
    db: Session,
    *,
    patients: Collection[str] = (),
    payments: Collection[str] = (),
    devices: Collection[str] = (),
    wifis: Collection[str] = (),
) -> list[BookingFact]:
    """Window bookings of the given patients, or with the given payment accounts, devices
    or Wi-Fi ids (keys the batch holds: the blacklist, the polling devices, the ring
    candidates)."""
    found: list[BookingFact] = []
    for column, keys in (
        (W.c.patient_key, patients),
        (W.c.payment_hash, payments),
        (W.c.device_key, devices),
        (W.c.wifi_key, wifis),
    ):
        if keys:
            _keys(db, keys)
            found += _facts(db, select(*_fact_columns(db)).where(column.in_(select(K.c.key))))
    return found


# labels ---------------------------------------------------------------------------------


def labels_of(
    db: Session, *, patients: Collection[str], payments: Collection[str], ips: Collection[str]
) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """What the window's bookings show of these patients, payment accounts and addresses
    (``repository.BookingLoad``'s labels), for the alerts that name them."""
    found: list[dict[str, str]] = []
    for keys, key, label in (
        (patients, W.c.patient_key, W.c.id_last4),
        (payments, W.c.payment_hash, W.c.payment_masked),
        (ips, W.c.ip_key, W.c.ip_label),
    ):
        labels: dict[str, str] = {}
        if keys:
            _keys(db, keys)
            statement = select(key, label).where(key.in_(select(K.c.key))).distinct()
            if label is not W.c.id_last4:  # the others only where the row carried one
                statement = statement.where(label.is_not(None), label != "")
            labels.update((k, v) for k, v in db.execute(statement))
        found.append(labels)
    last4, masked, ip_labels = found
    return last4, masked, ip_labels
