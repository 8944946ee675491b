"""The hot path's one-statement writes stay small enough for psycopg to keep their
converted form (issue 14, round 8): psycopg parses a statement's placeholders again on
every execution when it is longer than 4 KB or has more than 50 parameters, which cost a
hold about 9 % of its Python when the hold's statement bound a column a parameter."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from psycopg import _queries
from sqlalchemy import Select
from sqlalchemy.dialects import postgresql

from fairslot.bookings import confirm_statement, hold_statement
from fairslot.bookings.repository import claim_statement
from fairslot.ledger.events import EventKind
from fairslot.schedules.states import SlotState

STATEMENTS = {
    "hold by slot": lambda: hold_statement.statement(
        claim_statement(by_session=False, old_values=True)
    ),
    "hold by session": lambda: hold_statement.statement(
        claim_statement(by_session=True, old_values=True)
    ),
    "confirm": confirm_statement.statement,
}


@pytest.mark.parametrize("name", sorted(STATEMENTS))
def test_the_statement_is_one_psycopg_keeps_converted(name: str) -> None:
    statement: Select[object] = STATEMENTS[name]()
    compiled = statement.compile(dialect=postgresql.psycopg.dialect())  # type: ignore[attr-defined]

    assert len(str(compiled).encode()) <= _queries.MAX_CACHED_STATEMENT_LENGTH
    assert len(compiled.params) <= _queries.MAX_CACHED_STATEMENT_PARAMS


def _rows() -> list[dict[str, object]]:
    return [
        {"slot_id": None, "kind": kind, "at": f"at-{kind.value}"}
        for kind in hold_statement.DUE_KINDS
    ]


@pytest.mark.parametrize(
    ("was", "release_logged", "kinds"),
    [
        (SlotState.OPEN, True, ["held"]),
        (SlotState.OPEN, False, ["released", "held"]),
        (SlotState.COOLING, True, ["re_released", "held"]),
        (SlotState.COOLING, False, ["released", "re_released", "held"]),
    ],
)
def test_sqlites_due_rows_are_those_the_statement_keeps(
    was: SlotState, release_logged: bool, kinds: list[str]
) -> None:
    reopen_at = datetime(2026, 12, 7, 1, 2, tzinfo=UTC)
    due = hold_statement.due_rows(
        _rows(), slot_id="s-1", was=was, reopen_at=reopen_at, release_logged=release_logged
    )

    assert [row["kind"].value for row in due] == kinds
    assert {row["slot_id"] for row in due} == {"s-1"}
    re_released = [row for row in due if row["kind"] == EventKind.RE_RELEASED]
    assert all(row["at"] == reopen_at for row in re_released)
