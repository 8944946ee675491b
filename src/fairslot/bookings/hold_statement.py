"""A hold's claim, its booking row and its ledger rows as one PostgreSQL statement
(issue 14): data-modifying CTEs, so the three writes are one round trip and one execution
instead of four (the ledger's executemany ran one execution per row)::

    WITH pick AS (SELECT … FROM slots WHERE <claimable> … FOR UPDATE [SKIP LOCKED]),
         c AS (UPDATE slots SET state = 'held', … FROM pick RETURNING …),       -- the claim
         bk AS (INSERT INTO bookings (…) SELECT b.id, c.id, …
                FROM c JOIN json_populate_record(NULL::bookings, :booking) AS b ON true),
         lg AS (INSERT INTO slot_events (…) SELECT c.id, e.kind, …
                FROM c JOIN json_populate_recordset(NULL::slot_events, :rows)
                WITH ORDINALITY AS e ON true WHERE <made due> ORDER BY e.ordinality)
    SELECT … FROM c

The claim is ``repository.claim_statement``'s, unchanged. The ledger rows are the three a
claim can make due (``transitions.hold_rows``), all bound; the statement keeps those this
claim made due — ``released`` when the slot's entry was not yet written, ``re_released``
at the drawn time the claim returned when the slot was COOLING, ``held`` always — numbered
in that order by the one ``INSERT … SELECT … ORDER BY``. When the claim takes nothing,
nothing is written and no row comes back. A unique index's refusal of the booking fails
the whole statement (``IntegrityError``), as the separate ``INSERT`` did.

The booking and the rows are bound as one JSON document each, and the names are short:
psycopg converts a statement's placeholders once and keeps the conversion only for a
statement under 4 KB with at most 50 parameters (``psycopg._queries``); bound a column a
parameter, this one was 6 KB with 75 and its conversion took about 9 % of a hold's
Python. ``tests/unit/test_hold_statement.py`` keeps it under both.

SQLite runs the same writes as separate statements (``repository.claim_and_insert``),
the ledger rows by :func:`due_rows`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from functools import cache
from typing import Any, cast

from sqlalchemy import (
    JSON,
    Select,
    Table,
    Update,
    and_,
    bindparam,
    case,
    column,
    func,
    insert,
    literal_column,
    or_,
    select,
    true,
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
# A ledger row's columns (every one but ``id``).
EVENT_COLUMNS = tuple(column.key for column in _EVENTS.columns if column.key != "id")


def due_rows(
    rows: list[dict[str, Any]],
    *,
    slot_id: str,
    was: SlotState,
    reopen_at: datetime | None,
    release_logged: bool,
) -> list[dict[str, Any]]:
    """Of the three ``rows`` (:data:`DUE_KINDS` order), those a claim of ``slot_id`` made
    due, for that slot, by the statement's own conditions: SQLite's writes of them
    (``repository.claim_and_insert``)."""
    released, re_released, held = ({**row, "slot_id": slot_id} for row in rows)
    due = [] if release_logged else [released]
    if was == SlotState.COOLING:
        due.append({**re_released, "at": reopen_at or re_released["at"]})
    return [*due, held]


def parameters(
    claim: Mapping[str, object],
    booking: Mapping[str, object],
    rows: list[dict[str, Any]],
) -> dict[str, object]:
    """The statement's parameters: the claim's, the booking's columns as one JSON record
    (``booking``; its ``slot_id`` is the claim's) and the three due rows as one JSON array
    (``rows``, in :data:`DUE_KINDS` order; their ``slot_id`` is the claim's)."""
    assert [row["kind"] for row in rows] == list(DUE_KINDS), rows
    return {**claim, "booking": _jsonable(booking), "rows": [_jsonable(row) for row in rows]}


def _jsonable(values: Mapping[str, object]) -> dict[str, object]:
    """Dates and times as ISO strings (with their offset), as PostgreSQL reads them into
    the record's typed columns; the rest as JSON has it."""
    return {
        key: value.isoformat() if isinstance(value, date) else value
        for key, value in values.items()
    }


@cache
def statement(claim_update: Update) -> Select[Any]:
    """Around ``claim_update`` (``repository.claim_statement``'s PostgreSQL form, itself
    built once per form): built once per form, with named parameters."""
    claim = claim_update.cte("c")  # short names: see the module's docstring
    booking = _record("booking", _BOOKINGS, name="b")
    booked = (
        insert(_BOOKINGS)
        .from_select(
            list(_BOOKING_COLUMNS),
            select(
                *(claim.c.id if key == "slot_id" else booking.c[key] for key in _BOOKING_COLUMNS)
            ).select_from(claim.join(booking, true())),
        )
        .cte("bk")
    )
    due = _record("rows", _EVENTS, name="e", many=True)
    # ``re_released`` is at the drawn time the claim returned.
    at = case(
        (due.c.kind == EventKind.RE_RELEASED, func.coalesce(claim.c.reopen_at, due.c.at)),
        else_=due.c.at,
    )
    made_due = or_(
        and_(due.c.kind == EventKind.RELEASED, claim.c.release_logged.is_(False)),
        and_(due.c.kind == EventKind.RE_RELEASED, claim.c.state == SlotState.COOLING),
        due.c.kind == EventKind.HELD,
    )
    logged = (
        insert(_EVENTS)
        .from_select(
            list(EVENT_COLUMNS),
            select(
                *(
                    claim.c.id if key == "slot_id" else at if key == "at" else due.c[key]
                    for key in EVENT_COLUMNS
                )
            )
            .select_from(claim.join(due, true()))
            .where(made_due)
            .order_by(due.c.ordinality),
        )
        .cte("lg")
    )
    return select(*claim.c).add_cte(booked, logged)


def _record(parameter: str, table: Table, *, name: str, many: bool = False) -> Any:
    """The JSON parameter as rows of ``table``'s own type (``many``: an array of them,
    numbered in its order as ``ordinality``)."""
    columns = [column(c.key, c.type) for c in table.columns]
    populate = func.json_populate_recordset if many else func.json_populate_record
    rows = populate(literal_column(f"NULL::{table.name}"), bindparam(parameter, type_=JSON))
    # No column list after the alias: the row type names the columns (PostgreSQL names
    # the ordinality column ``ordinality``).
    return rows.table_valued(*columns, with_ordinality="ordinality" if many else None).alias(name)
