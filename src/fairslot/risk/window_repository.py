"""The batch's window: the bookings read back from the database as facts.

A city's week is a million bookings; nearly all of them are ordinary and no rule can fire
on them. Loading every one into Python as a fact to find that out cost most of the batch's
time and memory. Instead the window is read once as columns, straight from the join of
bookings, patients and departments that :func:`window_rows` selects
(``window_columns_repository.py``), and each rule family's 7-day count is a numpy grouping
over them (``window_columns.py``; the same on SQLite and PostgreSQL). Only the bookings of
the entities a count lets through are read back here as facts, by index (a patient, a
payment account, a device), and the pure rules (``risk/rules.py``, ``risk/operators.py``)
judge those exactly as before.

Why the answer cannot change: every pre-filter is a necessary condition of its rule (a
group whose count misses the threshold there misses it in Python too), the bookings read
back are whole groups (every booking of a suspect patient, account, payment account or
device), and they are *patient-closed* (all of a patient's bookings or none), so the one
rule that can lose a hit by seeing more — a cancellation forgiven by a visit — sees every
visit of every patient it judges. ``tests/integration/test_risk_window.py`` runs both
ways over the same history and compares.

On PostgreSQL the counts and the facts read back are separate statements on live tables:
under READ COMMITTED a booking paid or marked a no-show while the batch runs can be seen by
one and not the other (SQLite's one transaction keeps one view). The hits stay those of a
moment of the window; running the batch at an hour of little traffic, as the worker does,
keeps that rare. Repeatable read for the batch's transaction would remove it.

The window is not copied into a scratch table: writing a million rows there and reading
them back cost more than the reads it saved (a few hundred suspects are found by index).
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from typing import Any

from sqlalchemy import Column, Integer, MetaData, Select, String, Table, func, insert, select
from sqlalchemy.orm import Session

from fairslot.bookings.models import Booking
from fairslot.bookings.states import BookingStatus
from fairslot.hospitals.models import Department
from fairslot.patients.models import Account, Binding, Patient
from fairslot.risk.facts import BookingFact
from fairslot.risk.linking import BindingFact
from fairslot.risk.repository import in_window, stream, utc
from fairslot.risk.rules import Window

_ATTENDED = {BookingStatus.CHECKED_IN: True, BookingStatus.NO_SHOW: False}

# Not in the platform's metadata: per-connection scratch tables, never migrated.
_scratch = MetaData()
# Keys the batch holds in Python (a blacklist, candidate patients), to join on.
K = Table("risk_window_keys", _scratch, Column("key", String(128)), prefixes=["TEMPORARY"])
# Numbers the batch holds in Python (patients), to join on.
N = Table("risk_window_numbers", _scratch, Column("n", Integer), prefixes=["TEMPORARY"])
_TABLES = (K, N)


def open_window(db: Session) -> None:
    """Create the batch's scratch tables (dropping left-over ones first)."""
    connection = db.connection()
    for table in _TABLES:
        table.drop(connection, checkfirst=True)
        table.create(connection)


def close_window(db: Session) -> None:
    for table in _TABLES:
        table.drop(db.connection(), checkfirst=True)


def window_rows(window: Window, *columns: Any) -> Select[Any]:
    """``columns`` of the window's bookings, each joined with its patient and department:
    the rows every count and every fact of the batch is read from."""
    return (
        select(*columns)
        .select_from(Booking)
        .join(Department, Department.id == Booking.department_id)
        .join(Patient, Patient.id == Booking.patient_id)
        .where(in_window(window))
    )


def binding_rows(*columns: Any) -> Select[Any]:
    """``columns`` of every binding, with its account (for the account's phone)."""
    return select(*columns).select_from(Binding).join(Account, Account.id == Binding.account_id)


def bindings_of(db: Session, *, patients: Collection[str]) -> list[tuple[int, int, BindingFact]]:
    """Every binding of ``patients``, with its patient's and account's numbers (the batch
    keeps those of the window's patients and accounts, ``window_columns.read_bindings``)."""
    _keys(db, patients)
    statement = (
        binding_rows(Binding.patient_id, Binding.account_id, Patient.id_hash, Account.phone_hash)
        .join(Patient, Patient.id == Binding.patient_id)
        .where(Patient.id_hash.in_(select(K.c.key)))
    )
    return [
        (
            patient_id,
            account_id,
            BindingFact(patient_key=key, account_id=account_id, account_phone_hash=phone),
        )
        for patient_id, account_id, key, phone in stream(db, statement)
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


def _fact_rows(db: Session, window: Window) -> Select[Any]:
    return window_rows(
        window,
        Booking.id,
        Patient.id_hash,
        Booking.account_id,
        Booking.department_id,
        Department.specialty,
        Department.sex_restriction,
        Patient.sex,
        Booking.session_id,
        Booking.session_date,
        utc(db, func.coalesce(Booking.booked_at, Booking.held_at)),
        utc(db, Booking.ended_at),
        Booking.status,
        Booking.payment_account_hash,
        Booking.device_key,
        Booking.ip_key,
        Booking.wifi_key,
        Patient.phone_hash,
        Booking.channel_id,
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


def facts_of_patients(
    db: Session, *, window: Window, numbers: Collection[int]
) -> list[BookingFact]:
    """Every window booking of the patients numbered ``numbers`` (``patients.id``)."""
    _numbers(db, numbers)
    statement = _fact_rows(db, window).where(Booking.patient_id.in_(select(N.c.n)))
    return list(_facts(db, statement))


def patient_keys_of(db: Session, *, numbers: Collection[int]) -> set[str]:
    """The keys of the patients numbered ``numbers`` (``patients.id``)."""
    _numbers(db, numbers)
    statement = select(Patient.id_hash).where(Patient.id.in_(select(N.c.n)))
    return {key for (key,) in stream(db, statement)}


def facts_with_keys(
    db: Session,
    *,
    window: Window,
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
        (Patient.id_hash, patients),
        (Booking.payment_account_hash, payments),
        (Booking.device_key, devices),
        (Booking.wifi_key, wifis),
    ):
        if keys:
            _keys(db, keys)
            found += _facts(db, _fact_rows(db, window).where(column.in_(select(K.c.key))))
    return found


# labels ---------------------------------------------------------------------------------


def labels_of(
    db: Session,
    *,
    window: Window,
    patients: Collection[str],
    payments: Collection[str],
    ips: Collection[str],
) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """What the window's bookings show of these patients, payment accounts and addresses
    (``repository.BookingLoad``'s labels), for the alerts that name them."""
    found: list[dict[str, str]] = []
    for keys, key, label in (
        (patients, Patient.id_hash, Patient.id_last4),
        (payments, Booking.payment_account_hash, Booking.payment_account_masked),
        (ips, Booking.ip_key, Booking.ip_label),
    ):
        labels: dict[str, str] = {}
        if keys:
            _keys(db, keys)
            statement = window_rows(window, key, label).where(key.in_(select(K.c.key))).distinct()
            if label is not Patient.id_last4:  # the others only where the row carried one
                statement = statement.where(label.is_not(None), label != "")
            labels.update((k, v) for k, v in db.execute(statement))
        found.append(labels)
    last4, masked, ip_labels = found
    return last4, masked, ip_labels
