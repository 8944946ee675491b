"""The window's bookings, requests and bindings read once as columns, for the counts of
``window_columns.py`` and the ring grouping, straight from their tables (one pass each, no
scratch copy).

Each booking's readings that a count needs (taken in the window, cancelled in it, a sex
mismatch ...) are worked out by the database in the same pass, as flags, with the same
meaning as ``facts.BookingFact``'s; the identifiers come back as text and are numbered at
once (``ring_groups.numbered``), a chunk at a time, so no key is held.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from functools import reduce
from operator import add, itemgetter
from typing import Any

import numpy as np
from sqlalchemy import ColumnElement, Float, and_, case, cast, func, or_, select
from sqlalchemy.orm import Session

from fairslot.audit.models import RequestRecord
from fairslot.bookings.models import Booking
from fairslot.bookings.states import BookingStatus
from fairslot.hospitals.kinds import SexRestriction
from fairslot.hospitals.models import Department
from fairslot.patients.identity import Sex
from fairslot.patients.models import Account, Binding, Patient
from fairslot.risk import window_columns as cols
from fairslot.risk.repository import STREAM_ROWS, request_filter
from fairslot.risk.ring_groups import DEVICE, NETWORK, PAYMENT, PHONE, hashed
from fairslot.risk.rules import Window
from fairslot.risk.window_columns import NONE, ActorColumns, BindingColumns, Keyed, WindowColumns
from fairslot.risk.window_repository import binding_rows, window_rows

# When a booking was taken: confirmed, or held if never paid (``facts.BookingFact.booked_at``).
_TAKEN_AT = func.coalesce(Booking.booked_at, Booking.held_at)
# How a column comes back: an integer, seconds, or an identifier of a ring kind.
_INT, _SECONDS = "int", "seconds"
Spec = str | int


def window_columns(db: Session, *, window: Window) -> WindowColumns:
    """Every booking of the window as columns."""
    found = _read(
        db,
        window_rows(
            window,
            Booking.patient_id,
            func.coalesce(Booking.account_id, NONE),
            Booking.department_id,
            Booking.session_id,
            _flags(window),
            _seconds(db, _TAKEN_AT),
            _seconds(db, Booking.ended_at),
            func.coalesce(Booking.channel_id, NONE),
            Booking.payment_account_hash,
            Booking.device_key,
            Patient.phone_hash,
            Booking.ip_key,
            Booking.wifi_key,
        ),
        (*(_INT,) * 5, _SECONDS, _SECONDS, _INT, PAYMENT, DEVICE, PHONE, NETWORK, NETWORK),
    )
    return WindowColumns(*found)


def request_columns(db: Session, *, window: Window) -> ActorColumns:
    """Every request the batch reads (``repository.request_filter``) as columns. A request
    for a key no patient row has is numbered below zero (``ActorColumns.unregistered``
    tells its key)."""
    r = RequestRecord
    statement = (
        select(
            Patient.id,
            case((Patient.id.is_(None), r.patient_key)),
            func.coalesce(r.account_id, NONE),
            func.coalesce(r.channel_id, NONE),
            r.payment_account_hash,
            r.device_key,
            r.ip_key,
            r.wifi_key,
        )
        .select_from(r)
        .outerjoin(Patient, Patient.id_hash == r.patient_key)
        .where(request_filter(window))
    )
    unregistered: dict[str, int] = {}

    def number(known: Sequence[int | None], keys: Sequence[str | None]) -> np.ndarray:
        return np.fromiter(
            (
                n if n is not None else unregistered.setdefault(k or "", -1 - len(unregistered))
                for n, k in zip(known, keys, strict=True)
            ),
            dtype=np.int64,
            count=len(known),
        )

    found = _read(
        db,
        statement,
        (_INT, _INT, _INT, _INT, PAYMENT, DEVICE, NETWORK, NETWORK),
        combine={0: number},
    )
    patient, _, account, channel, payment, device, ip, wifi = found
    return ActorColumns(
        patient=patient,
        account=account,
        channel=channel,
        payment=payment,
        device=device,
        ip=ip,
        wifi=wifi,
        unregistered={n: k for k, n in unregistered.items()},
    )


def binding_columns(db: Session) -> BindingColumns:
    """Every binding as columns (two numbers and the account's phone each, one scan, no
    join with the window); the batch keeps those of the window's patients and accounts
    (``window_columns.read_bindings``)."""
    patient, account, phone = _read(
        db,
        binding_rows(Binding.patient_id, Binding.account_id, Account.phone_hash),
        (_INT, _INT, PHONE),
    )
    return BindingColumns(patient, account, phone)


# reading -------------------------------------------------------------------------------


def _read(
    db: Session,
    statement: Any,
    specs: Sequence[Spec],
    *,
    combine: dict[int, Callable[[Sequence[Any], Sequence[Any]], np.ndarray]] | None = None,
) -> list[Any]:
    """The statement's columns, each as an array (or :class:`Keyed`) of ``specs``.
    ``combine[i]`` turns column ``i`` and ``i + 1`` into column ``i``'s numbers.

    Each column is taken out of a chunk's rows straight into its array (``itemgetter``),
    without first turning the rows into tuples of columns: half the Python time."""
    parts: list[list[Any]] = [[] for _ in specs]
    for rows in _chunks(db, statement):
        count = len(rows)
        for i, spec in enumerate(specs):
            if combine and i - 1 in combine:
                continue  # read with the column before
            values = map(itemgetter(i), rows)
            if combine and i in combine:
                parts[i].append(combine[i](list(values), [row[i + 1] for row in rows]))
            elif spec == _INT:
                parts[i].append(np.fromiter(values, dtype=np.int64, count=count))
            elif spec == _SECONDS:
                parts[i].append(np.fromiter(values, dtype=np.float64, count=count))
            else:
                hashes = np.fromiter(map(hash, values), dtype=np.int64, count=count)
                parts[i].append(Keyed(*hashed(hashes, int(spec), value_at=_cell(rows, i))))
    found: list[Any] = []
    for spec, part in zip(specs, parts, strict=True):
        if isinstance(spec, int):
            found.append(Keyed.joined(part) if part else Keyed.of((), spec))
        else:
            dtype = np.float64 if spec == _SECONDS else np.int64
            found.append(np.concatenate(part) if part else np.zeros(0, dtype=dtype))
    return found


def _cell(rows: Sequence[Sequence[Any]], column: int) -> Callable[[int], Any]:
    return lambda at: rows[at][column]


def _chunks(db: Session, statement: Any) -> Iterator[Sequence[Sequence[Any]]]:
    """The rows ``STREAM_ROWS`` at a time (a server-side cursor on PostgreSQL), straight
    from the driver's cursor.

    These columns (integers, floats, text) need none of the result's conversions, whose
    per-row objects cost more than the reading. On SQLite the driver's cursor steps
    through the result as it is fetched (nothing is buffered ahead); on PostgreSQL the
    result opens the server-side cursor, and only the one row it buffered on opening
    comes through it.
    """
    connection = db.connection()
    if connection.dialect.name == "sqlite":
        cursor = connection.execute(statement).cursor
        while rows := cursor.fetchmany(STREAM_ROWS):
            yield rows
        return
    result = connection.execute(
        statement.execution_options(stream_results=True, max_row_buffer=STREAM_ROWS)
    )
    try:
        first: list[Any] = list(result.fetchmany(1))
        cursor = result.cursor  # None once the result found no row and closed itself
        rows = first + (list(cursor.fetchmany(STREAM_ROWS - 1)) if cursor is not None else [])
        while rows:
            yield rows
            rows = cursor.fetchmany(STREAM_ROWS) if cursor is not None else []
    finally:
        result.close()


# what a row means (the same readings as ``facts.BookingFact``) ---------------------------


def _within(column: Any, window: Window) -> ColumnElement[bool]:
    return and_(column >= window.start, column < window.end)


def _flags(window: Window) -> Any:
    """The row's readings as the bits of ``window_columns`` (BOOKED, PAID ...)."""
    taken = _within(_TAKEN_AT, window)
    booked = and_(Booking.status != BookingStatus.EXPIRED, taken)
    first, after = window.local_days
    sex_mismatch = and_(
        Patient.sex.is_not(None),
        or_(
            and_(Department.sex_restriction == SexRestriction.FEMALE, Patient.sex != Sex.FEMALE),
            and_(Department.sex_restriction == SexRestriction.MALE, Patient.sex != Sex.MALE),
        ),
    )
    cancelled = and_(Booking.status == BookingStatus.CANCELLED, _within(Booking.ended_at, window))
    readings: tuple[tuple[ColumnElement[bool], int], ...] = (
        (booked, cols.BOOKED),
        (
            and_(
                Booking.payment_account_hash.is_not(None),
                Booking.status.not_in((BookingStatus.HELD, BookingStatus.EXPIRED)),
                taken,
            ),
            cols.PAID,
        ),
        (and_(booked, sex_mismatch), cols.SEX_MISMATCH),
        (cancelled, cols.CANCELLED),
        (
            and_(
                Booking.status == BookingStatus.NO_SHOW,
                Booking.session_date >= first,
                Booking.session_date < after,
            ),
            cols.NO_SHOW,
        ),
        (taken, cols.TAKEN),
    )
    return reduce(add, (case((where, bit), else_=0) for where, bit in readings))


def _seconds(db: Session, column: Any) -> Any:
    """Seconds since 1970 of a timestamp column, as a float (0 when NULL), on either
    backend."""
    seconds: ColumnElement[Any]
    if db.get_bind().dialect.name == "postgresql":
        seconds = cast(func.extract("epoch", column), Float)
    else:
        seconds = (func.julianday(column) - 2440587.5) * 86400.0
    return func.coalesce(seconds, 0.0)
