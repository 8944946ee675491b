"""The SQL statements an engine sends, for tests that count what a request costs."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import event
from sqlalchemy.engine import Engine


@contextmanager
def statements(engine: Engine) -> Iterator[list[str]]:
    """Every statement ``engine`` sends inside the block, its white space folded, but
    SQLite's own transaction start (``BEGIN``)."""
    with _sent(engine, lambda statement, _context: not statement.startswith("BEGIN")) as seen:
        yield seen


@contextmanager
def rendered_anew(engine: Engine) -> Iterator[list[str]]:
    """The statements ``engine`` sends inside the block whose SQL SQLAlchemy rendered again
    for this execution (an expanding ``IN``, a literal rendered at execution): their text
    is converted by the driver anew each time instead of once (``db/core.py::among``)."""

    def anew(_statement: str, context: object) -> bool:
        compiled = getattr(context, "compiled", None)
        return compiled is not None and bool(
            compiled.post_compile_params or compiled.literal_execute_params
        )

    with _sent(engine, anew) as seen:
        yield seen


@contextmanager
def _sent(engine: Engine, keep: Callable[[str, object], bool]) -> Iterator[list[str]]:
    """The statements ``engine`` sends inside the block, white space folded, that ``keep``
    (given the statement and its execution context) keeps."""
    seen: list[str] = []

    def look(*args: object) -> None:
        statement = " ".join(str(args[2]).split())
        if keep(statement, args[4]):
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", look)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", look)


@contextmanager
def transaction_ends(engine: Engine) -> Iterator[list[str]]:
    """How each transaction on ``engine`` ends inside the block: ``commit`` or
    ``rollback``, in order (a rollback makes psycopg forget its prepared statements)."""
    seen: list[str] = []
    listeners = {
        kind: (lambda _conn, kind=kind: seen.append(kind)) for kind in ("commit", "rollback")
    }
    for kind, listener in listeners.items():
        event.listen(engine, kind, listener)
    try:
        yield seen
    finally:
        for kind, listener in listeners.items():
            event.remove(engine, kind, listener)
