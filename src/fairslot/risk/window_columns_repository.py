"""The window's scratch tables (``window_repository.py``) read once as columns, for the
counts of ``window_columns.py`` and the ring grouping.

Each row's readings that a count needs (taken in the window, cancelled in it, a sex
mismatch ...) are worked out by the database in the same pass, as flags, with the same
meaning as ``facts.BookingFact``'s; the identifiers come back as text and are numbered at
once (``ring_groups.numbered``), a chunk at a time, so no key is held.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from functools import reduce
from operator import add
from typing import Any

import numpy as np
from sqlalchemy import ColumnElement, Float, and_, case, cast, func, or_, select
from sqlalchemy.orm import Session

from fairslot.bookings.states import BookingStatus
from fairslot.hospitals.kinds import SexRestriction
from fairslot.patients.identity import Sex
from fairslot.risk import window_columns as cols
from fairslot.risk.repository import STREAM_ROWS
from fairslot.risk.ring_groups import DEVICE, NETWORK, PAYMENT, PHONE
from fairslot.risk.rules import Window
from fairslot.risk.window_columns import NONE, ActorColumns, BindingColumns, Keyed, WindowColumns
from fairslot.risk.window_repository import B, R, W

# How a column comes back: an integer, seconds, or an identifier of a ring kind.
_INT, _SECONDS = "int", "seconds"
Spec = str | int


def window_columns(db: Session, *, window: Window) -> WindowColumns:
    """Every row of ``risk_window`` as columns."""
    found = _read(
        db,
        select(
            W.c.row_no,
            W.c.patient_id,
            func.coalesce(W.c.account_id, NONE),
            W.c.department_id,
            W.c.session_id,
            _flags(window),
            _seconds(db, W.c.taken_at),
            _seconds(db, W.c.ended_at),
            func.coalesce(W.c.channel_id, NONE),
            W.c.payment_hash,
            W.c.device_key,
            W.c.phone_hash,
            W.c.ip_key,
            W.c.wifi_key,
        ),
        (*(_INT,) * 6, _SECONDS, _SECONDS, _INT, PAYMENT, DEVICE, PHONE, NETWORK, NETWORK),
    )
    return WindowColumns(*found)


def request_columns(db: Session) -> ActorColumns:
    """Every row of ``risk_window_requests`` as columns. A request for a key no patient
    row has is numbered below zero (``ActorColumns.unregistered`` tells its key)."""
    statement = select(
        R.c.patient_id,
        case((R.c.patient_id.is_(None), R.c.patient_key)),
        func.coalesce(R.c.account_id, NONE),
        func.coalesce(R.c.channel_id, NONE),
        R.c.payment_hash,
        R.c.device_key,
        R.c.ip_key,
        R.c.wifi_key,
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
    """Every row of ``risk_window_bindings`` as columns."""
    found = _read(db, select(B.c.patient_id, B.c.account_id, B.c.phone_hash), (_INT, _INT, PHONE))
    return BindingColumns(*found)


# reading -------------------------------------------------------------------------------


def _read(
    db: Session,
    statement: Any,
    specs: Sequence[Spec],
    *,
    combine: dict[int, Callable[[Sequence[Any], Sequence[Any]], np.ndarray]] | None = None,
) -> list[Any]:
    """The statement's columns, each as an array (or :class:`Keyed`) of ``specs``.
    ``combine[i]`` turns column ``i`` and ``i + 1`` into column ``i``'s numbers."""
    parts: list[list[Any]] = [[] for _ in specs]
    for chunk in _chunks(db, statement, len(specs)):
        for i, (spec, values) in enumerate(zip(specs, chunk, strict=True)):
            if combine and i - 1 in combine:
                continue  # read with the column before
            if combine and i in combine:
                parts[i].append(combine[i](values, chunk[i + 1]))
            elif spec == _INT:
                parts[i].append(np.array(values, dtype=np.int64))
            elif spec == _SECONDS:
                parts[i].append(np.array(values, dtype=np.float64))
            else:
                parts[i].append(Keyed.of(values, int(spec)))
    found: list[Any] = []
    for spec, part in zip(specs, parts, strict=True):
        if isinstance(spec, int):
            found.append(Keyed.joined(part) if part else Keyed.of((), spec))
        else:
            dtype = np.float64 if spec == _SECONDS else np.int64
            found.append(np.concatenate(part) if part else np.zeros(0, dtype=dtype))
    return found


def _chunks(db: Session, statement: Any, width: int) -> Iterator[list[tuple[Any, ...]]]:
    """The rows ``STREAM_ROWS`` at a time (a server-side cursor on PostgreSQL), each
    chunk as ``width`` columns.

    On SQLite the driver's own cursor is read: it steps through the result as it is
    fetched (nothing is buffered ahead), and these columns (integers, floats, text) need
    none of the result's conversions, whose per-row objects cost more than the reading.
    """
    connection = db.connection()
    if connection.dialect.name == "sqlite":
        cursor = connection.execute(statement).cursor
        while rows := cursor.fetchmany(STREAM_ROWS):
            yield list(zip(*rows, strict=True))
        return
    result = connection.execute(
        statement.execution_options(stream_results=True, max_row_buffer=STREAM_ROWS)
    )
    for partition in result.partitions(STREAM_ROWS):
        columns = list(zip(*partition, strict=True))
        yield columns if columns else [() for _ in range(width)]


# what a row means (the same readings as ``facts.BookingFact``) ---------------------------


def _within(column: Any, window: Window) -> ColumnElement[bool]:
    return and_(column >= window.start, column < window.end)


def _flags(window: Window) -> Any:
    """The row's readings as the bits of ``window_columns`` (BOOKED, PAID ...)."""
    taken = _within(W.c.taken_at, window)
    booked = and_(W.c.status != BookingStatus.EXPIRED, taken)
    first, after = window.local_days
    sex_mismatch = and_(
        W.c.patient_sex.is_not(None),
        or_(
            and_(W.c.sex_restriction == SexRestriction.FEMALE, W.c.patient_sex != Sex.FEMALE),
            and_(W.c.sex_restriction == SexRestriction.MALE, W.c.patient_sex != Sex.MALE),
        ),
    )
    cancelled = and_(W.c.status == BookingStatus.CANCELLED, _within(W.c.ended_at, window))
    readings: tuple[tuple[ColumnElement[bool], int], ...] = (
        (booked, cols.BOOKED),
        (
            and_(
                W.c.payment_hash.is_not(None),
                W.c.status.not_in((BookingStatus.HELD, BookingStatus.EXPIRED)),
                taken,
            ),
            cols.PAID,
        ),
        (and_(booked, sex_mismatch), cols.SEX_MISMATCH),
        (cancelled, cols.CANCELLED),
        (
            and_(
                W.c.status == BookingStatus.NO_SHOW,
                W.c.session_date >= first,
                W.c.session_date < after,
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
