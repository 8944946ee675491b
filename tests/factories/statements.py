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


@contextmanager
def rendered_anew(engine: Engine) -> Iterator[list[str]]:
    """The statements ``engine`` sends inside the block whose SQL SQLAlchemy rendered again
    for this execution (an expanding ``IN``, a literal rendered at execution): their text
    is converted by the driver anew each time instead of once (``db/core.py::among``)."""
    seen: list[str] = []

    def check(*args: object) -> None:
        context = args[4]
        compiled = getattr(context, "compiled", None)
        anew = compiled is not None and (
            compiled.post_compile_params or compiled.literal_execute_params
        )
        if anew:
            seen.append(" ".join(str(args[2]).split()))

    event.listen(engine, "before_cursor_execute", check)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", check)
