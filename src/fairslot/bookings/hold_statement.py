"""A hold's claim, its booking row and its ledger rows as one PostgreSQL statement
(issue 14): data-modifying CTEs, so the three writes are one round trip and one execution
instead of four (the ledger's executemany ran one execution per row)::

    WITH pick AS (SELECT … FROM slots WHERE <claimable> … FOR UPDATE [SKIP LOCKED]),
         claim AS (UPDATE slots SET state = 'held', … FROM pick RETURNING …),
         booked AS (INSERT INTO bookings (…) SELECT …, claim.id, … FROM claim),
         logged AS (INSERT INTO slot_events (…) SELECT … FROM (<due rows>) ORDER BY ord)
    SELECT … FROM claim

The claim is ``repository.claim_statement``'s, unchanged. The ledger rows are the three a
claim can make due (``transitions.hold_rows``), all bound; the statement keeps those this
claim made due — ``released`` when the slot's entry was not yet written, ``re_released``
at the drawn time the claim returned when the slot was COOLING, ``held`` always — numbered
in that order by the one ``INSERT … SELECT … ORDER BY``. When the claim takes nothing,
nothing is written and no row comes back. A unique index's refusal of the booking fails
the whole statement (``IntegrityError``), as the separate ``INSERT`` did.

SQLite runs the same writes as separate statements (``booking.py::_claim_and_insert``).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Select,
    Table,
    Update,
    bindparam,
    func,
    insert,
    literal,
    select,
    union_all,
)

from fairslot.bookings.models import Booking
from fairslot.ledger.events import EventKind
from fairslot.ledger.models import SlotEvent
from fairslot.schedules.states import SlotState

# The rows a hold may write, in ledger order, each with the claim's condition for it.
DUE_KINDS = (EventKind.RELEASED, EventKind.RE_RELEASED, EventKind.HELD)

_BOOKINGS = cast(Table, Booking.__table__)
_EVENTS = cast(Table, SlotEvent.__table__)
_BOOKING_COLUMNS = tuple(column.key for column in _BOOKINGS.columns)
# A ledger row's columns (every one but ``id``), as the statements bind them.
EVENT_COLUMNS = tuple(column.key for column in _EVENTS.columns if column.key != "id")


def parameters(
    claim: Mapping[str, object],
    booking: Mapping[str, object],
    rows: list[dict[str, Any]],
) -> dict[str, object]:
    """The statement's parameters: the claim's, the booking's columns (``b_<column>``;
    its ``slot_id`` is the claim's) and the three due rows' (``e<n>_<column>``, in
    :data:`DUE_KINDS` order; their ``slot_id`` is the claim's)."""
    assert [row["kind"] for row in rows] == list(DUE_KINDS), rows
    values = dict(claim)
    values.update({f"b_{key}": value for key, value in booking.items() if key != "slot_id"})
    for n, row in enumerate(rows):
        values.update(event_parameters(f"e{n}", row))
    return values


def event_parameters(prefix: str, row: dict[str, Any]) -> dict[str, object]:
    """A ledger row's (``ledger.entry_row``) parameters for :func:`event_values`."""
    return {f"{prefix}_{key}": value for key, value in row.items() if key != "slot_id"}


def event_values(
    prefix: str, *, slot_id: Any, at: ColumnElement[Any] | None = None
) -> list[ColumnElement[Any]]:
    """A ledger row's columns (:data:`EVENT_COLUMNS`) as bound parameters named
    ``<prefix>_<column>``, labelled; ``slot_id`` (the claimed or moved slot's column) and,
    if given, ``at`` are expressions instead."""
    columns: list[ColumnElement[Any]] = []
    for key in EVENT_COLUMNS:
        value: ColumnElement[Any] = bindparam(f"{prefix}_{key}", type_=_EVENTS.c[key].type)
        if key == "slot_id":
            value = slot_id
        elif key == "at" and at is not None:
            value = at
        columns.append(value.label(key))
    return columns


@cache
def statement(claim_update: Update) -> Select[Any]:
    """Around ``claim_update`` (``repository.claim_statement``'s PostgreSQL form, itself
    built once per form): built once per form, with named parameters."""
    claim = claim_update.cte("claim")
    booked = (
        insert(_BOOKINGS)
        .from_select(
            list(_BOOKING_COLUMNS),
            select(*(_booking_value(key, claim) for key in _BOOKING_COLUMNS)).select_from(claim),
        )
        .cte("booked")
    )
    due = union_all(*(_due_row(n, kind, claim) for n, kind in enumerate(DUE_KINDS))).subquery("due")
    logged = (
        insert(_EVENTS)
        .from_select(
            list(EVENT_COLUMNS),
            select(*(due.c[key] for key in EVENT_COLUMNS)).order_by(due.c.ord),
        )
        .cte("logged")
    )
    return select(*claim.c).add_cte(booked, logged)


def _booking_value(key: str, claim: Any) -> ColumnElement[Any]:
    if key == "slot_id":
        return cast(ColumnElement[Any], claim.c.id).label(key)
    return bindparam(f"b_{key}", type_=_BOOKINGS.c[key].type).label(key)


def _due_row(n: int, kind: EventKind, claim: Any) -> Select[Any]:
    # ``re_released`` is at the drawn time the claim returned.
    at = (
        func.coalesce(claim.c.reopen_at, bindparam(f"e{n}_at", type_=_EVENTS.c.at.type))
        if kind is EventKind.RE_RELEASED
        else None
    )
    row = select(*event_values(f"e{n}", slot_id=claim.c.id, at=at), literal(n).label("ord"))
    row = row.select_from(claim)
    if kind is EventKind.RELEASED:
        return row.where(claim.c.release_logged.is_(False))
    if kind is EventKind.RE_RELEASED:
        return row.where(claim.c.state == SlotState.COOLING)
    return row
