"""The hot path's one-statement writes stay small enough for psycopg to keep their
converted form (issue 14, round 8): psycopg parses a statement's placeholders again on
every execution when it is longer than 4 KB or has more than 50 parameters, which cost a
hold about 9 % of its Python when the hold's statement bound a column a parameter."""

from __future__ import annotations

import pytest
from psycopg import _queries
from sqlalchemy import Select
from sqlalchemy.dialects import postgresql

from fairslot.bookings import confirm_statement, hold_statement
from fairslot.bookings.repository import claim_statement

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
