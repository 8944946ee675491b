"""Request records written in batches, off the request's transaction (issue 14).

Every channel request that acts for a patient leaves a record (``audit/service.py``).
Written inside the request's own transaction, a successful hold paid for its INSERT and
for the share of its commit's WAL flush the record made (about 9 % of the hold's time
under the release burst), and a refusal or an availability poll, which write nothing
else, paid a whole write transaction and its fsync for it.

:class:`RecordBuffer` keeps the rows a request may defer in memory and writes them with
one multi-row INSERT, in a short transaction of its own, every ``flush_ms`` (sooner at
``max_rows``) and when the process shuts down (the app's lifespan, and ``atexit``).

What "durable" means here: a record is on disk at most ``flush_ms`` (plus one INSERT)
after its request was answered. A process that crashes — killed, not shut down — loses
the records of its last flush interval; a refusal or an allowed request then leaves no
evidence for the daily risk batch, which reads days of records. If the database cannot
be written the rows are kept and retried, up to ``max_kept`` rows (then the oldest are
dropped and counted in the log).

What is never deferred (:meth:`RecordBuffer.defers`) is what the real-time gate of a
*later* request reads (``gate/repository.py``), which another worker process cannot see
in this one's memory:

- a patient binding: the binding-burst count reads every one of them;
- a review or block decision: the repeated-fast count reads every one of them;
- a young account's first booking act (``PendingRecord.read_soon``, set by the gate):
  whether an account already acted is read only while it is young;
- the first browse (availability, alternatives) of a device in a while: the browse
  signal asks whether the device browsed in the last ``browse_window``; once one of its
  browses is written at once, the device's next ones in the following half window add
  nothing that question can see before they are flushed.

Everything else (allowed holds, confirmations, cancellations, refusals, repeated polls)
is read only by staff pages, the metrics and the daily risk batch, which do not look at
the last fraction of a second.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Connection, Dialect, Engine, Table, insert

from fairslot.audit.models import RequestRecord
from fairslot.memo import Memo

log = logging.getLogger("fairslot.audit")

# The records a later request's real-time gate counts, one by one.
_COUNTED_ACTIONS = frozenset({"bind_patient"})
_COUNTED_DECISIONS = frozenset({"review", "block"})
# What the gate's browse signal reads (``gate/realtime.py::BROWSE_ACTS`` is this set).
BROWSE_ACTIONS = frozenset({"availability", "alternatives"})

Row = dict[str, Any]


class RecordBuffer:
    """This process's request records waiting for their batched INSERT."""

    def __init__(
        self,
        engine: Engine,
        *,
        flush_ms: int,
        max_rows: int,
        browse_window: timedelta,
        max_kept: int = 100_000,
    ) -> None:
        self.engine = engine
        self.flush_seconds = flush_ms / 1000
        self.max_rows = max_rows
        self.max_kept = max_kept
        self._rows: list[Row] = []
        self._lock = threading.Lock()
        self._due = threading.Event()
        self._stop = threading.Event()
        self._flushing = threading.Lock()  # one INSERT at a time, in arrival order
        self._thread: threading.Thread | None = None
        self._pid = 0
        # Devices whose browse this process wrote at once lately (see the module's doc).
        self._browsed: Memo[str, bool] = Memo(ttl=browse_window / 2, max_entries=100_000)

    def defers(
        self,
        *,
        action: str,
        decision: str | None,
        read_soon: bool,
        device_key: str | None,
        at: datetime,
    ) -> bool:
        """Whether a record may wait for the next flush (no later request's gate needs to
        see it before then); a browse written at once is remembered for its device."""
        if action in _COUNTED_ACTIONS or decision in _COUNTED_DECISIONS or read_soon:
            return False
        if action not in BROWSE_ACTIONS or not device_key or self._browsed.ttl <= timedelta(0):
            return True
        if self._browsed.get(device_key, now=at):
            return True
        self._browsed.put(device_key, True, now=at)
        return False

    def add(self, row: Row) -> None:
        """Keep ``row`` for the next flush (the flushing thread starts on first need)."""
        self._started()
        with self._lock:
            self._rows.append(row)
            full = len(self._rows) >= self.max_rows
        if full:
            self._due.set()

    def pending(self) -> int:
        with self._lock:
            return len(self._rows)

    def flush(self) -> int:
        """Write every kept row now, in one statement and a transaction of its own; the rows
        are kept for the next try if the database refuses. Returns how many were written."""
        with self._flushing:
            with self._lock:
                rows, self._rows = self._rows, []
            if not rows:
                return 0
            try:
                with self.engine.begin() as connection:
                    _write(connection, rows)
            except Exception:
                self._keep(rows)
                log.exception("request records not written (%d kept for the next try)", len(rows))
                return 0
            return len(rows)

    def close(self) -> None:
        """Stop the flushing thread and write what is left (at shutdown)."""
        self._stop.set()
        self._due.set()
        thread = self._thread
        if thread is not None and thread.is_alive() and thread is not threading.current_thread():
            thread.join(timeout=5)
        self._thread = None  # a later record (the same platform served again) restarts it
        self.flush()

    def _keep(self, rows: Collection[Row]) -> None:
        with self._lock:
            self._rows[:0] = rows
            dropped = len(self._rows) - self.max_kept
            if dropped > 0:
                del self._rows[:dropped]
                log.error("request records dropped: %d (the database was unreachable)", dropped)

    def _started(self) -> None:
        # A platform made before a fork (a server's parent) starts its thread in the child.
        if self._thread is not None and self._pid == os.getpid():
            return
        with self._lock:
            if self._thread is not None and self._pid == os.getpid():
                return
            self._pid = os.getpid()
            self._stop.clear()
            self._thread = threading.Thread(
                target=self._run, name="fairslot-request-records", daemon=True
            )
            self._thread.start()
            atexit.register(self.close)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._due.wait(self.flush_seconds)
            self._due.clear()
            self.flush()


def _write(connection: Connection, rows: list[Row]) -> None:
    """The rows in one statement: PostgreSQL's ``COPY … FROM STDIN`` (psycopg streams the
    rows as data: no statement of hundreds of parameters to render, convert, parse and
    plan per batch, which cost about a tenth of the serving processes' CPU under the
    release burst), SQLite's multi-row INSERT."""
    if connection.dialect.name != "postgresql":
        connection.execute(_INSERT, rows)
        return
    processors = _bind_processors(connection.dialect)
    raw = connection.connection.driver_connection
    assert raw is not None
    with raw.cursor() as cursor, cursor.copy(_COPY) as copy:
        for row in rows:
            copy.write_row([_value(row, name, bind) for name, bind in processors])


_TABLE = cast(Table, RequestRecord.__table__)
# Every column but the id, in the table's order (the id comes from its sequence).
_COLUMNS = tuple(column for column in _TABLE.columns if not column.primary_key)
_COPY = "COPY {} ({}) FROM STDIN".format(_TABLE.name, ", ".join(column.name for column in _COLUMNS))


def _value(row: Row, name: str, bind: Any) -> Any:
    """A column's value as an INSERT binds it; a key the row lacks is NULL, as there."""
    value = row.get(name)
    return value if bind is None or value is None else bind(value)


def _bind_processors(dialect: Dialect) -> list[tuple[str, Any]]:
    """Each column's name and the conversion its type makes of a bound value (UTC for
    times), as an INSERT would apply it; None where the value goes as it is."""
    return [(column.name, column.type.bind_processor(dialect)) for column in _COLUMNS]


# The table's own insert. With RETURNING, SQLAlchemy's "insertmanyvalues" sends the rows
# as one multi-row INSERT (up to 1,000 rows a statement); the ids it returns are not used.
_INSERT = insert(_TABLE).returning(RequestRecord.id)
