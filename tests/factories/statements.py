"""The SQL statements an engine sends, for tests that count what a request costs."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event
from sqlalchemy.engine import Engine


@contextmanager
def statements(engine: Engine) -> Iterator[list[str]]:
    """Every statement ``engine`` sends inside the block, its white space folded, but
    SQLite's own transaction start (``BEGIN``)."""
    seen: list[str] = []

    def count(*args: object) -> None:
        statement = " ".join(str(args[2]).split())
        if not statement.startswith("BEGIN"):
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)
