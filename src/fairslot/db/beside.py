"""Reads run beside a long transaction, on connections of their own, in worker threads.

A batch that reads a week (``risk/batch.py``) spends about half its load phase waiting
for PostgreSQL to execute a statement, and the other half in Python turning another's
rows into columns. :class:`Beside` lets the reads that need nothing of the batch's own
transaction run on other connections meanwhile: the database executes one while Python
reads another (the driver lets go of the interpreter while it waits).

They go beside only when that cannot change what they read: on PostgreSQL, through an
engine, and before the batch's transaction has written anything (no transaction id yet:
every row it could see is committed, so another connection sees it too). Each read is a
statement of its own, as in the batch's session (READ COMMITTED: no two of the batch's
statements ever shared a snapshot), and at most half the engine's pool goes to them.
Otherwise — SQLite, a session bound to a connection, a transaction that has written, a
pool of one connection — each read runs at once, in the batch's session, in the order
asked.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from types import TracebackType
from typing import TypeVar

from sqlalchemy import Engine, QueuePool, text
from sqlalchemy.orm import Session, sessionmaker

T = TypeVar("T")


class Beside:
    """Run ``submit``-ted reads on ``workers`` other sessions (each begun with
    ``prepare``), or in ``db`` at once; a context manager that waits for them all and
    closes their sessions."""

    def __init__(
        self, db: Session, *, prepare: Callable[[Session], None], workers: int = 2
    ) -> None:
        self._db = db
        self._prepare = prepare
        bind = db.get_bind()
        workers = min(workers, _room(bind))
        self.apart = workers > 0 and isinstance(bind, Engine) and _nothing_written(db)
        self._factory = sessionmaker(bind=bind) if self.apart else None
        self._pool = ThreadPoolExecutor(workers, "beside") if self.apart else None
        self._local = threading.local()
        self._sessions: list[Session] = []
        self._lock = threading.Lock()

    def submit(self, read: Callable[[Session], T]) -> Future[T]:
        """``read`` with a session: beside, or here and now (its error raised here)."""
        if self._pool is None:
            done: Future[T] = Future()
            done.set_result(read(self._db))
            return done
        return self._pool.submit(self._run, read)

    def _run(self, read: Callable[[Session], T]) -> T:
        session: Session | None = getattr(self._local, "session", None)
        if session is None:
            assert self._factory is not None
            session = self._factory()
            with self._lock:
                self._sessions.append(session)
            self._prepare(session)
            self._local.session = session
        return read(session)

    def __enter__(self) -> Beside:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
        # Closing ends each one's read-only transaction; every close runs, whatever
        # another raised.
        with ExitStack() as closing:
            for session in self._sessions:
                closing.callback(session.close)


def _room(bind: object) -> int:
    """How many connections the reads may take beside the batch's own: half the pool's
    (``FAIRSLOT_DB_POOL_SIZE`` and its overflow), so that a small pool is never emptied
    by them (a read waiting for a connection would wait out the pool's timeout)."""
    pool = getattr(bind, "pool", None)
    if not isinstance(pool, QueuePool):
        return 0
    overflow = pool._max_overflow  # QueuePool tells it no other way
    if overflow < 0:
        return 2**16  # no limit
    return (pool.size() + overflow) // 2


def _nothing_written(db: Session) -> bool:
    if db.get_bind().dialect.name != "postgresql":
        return False
    assigned = db.execute(text("SELECT pg_current_xact_id_if_assigned()")).scalar_one_or_none()
    return assigned is None
