"""The database pool, watched: connections in use, checkouts that had to wait (and how
long), checkouts that gave up.

SQLAlchemy's pool events fire only once a connection is in hand, so they cannot say how
long a request waited for one. This pool times its own checkout instead: ``_do_get`` and
``_do_return_conn`` are the two methods a ``Pool`` subclass implements (SQLAlchemy's own
pools do exactly that); every checkout and every return passes through them once,
invalidated connections included.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.pool import ConnectionPoolEntry, QueuePool

from fairslot.observability import record

# A checkout that took longer than this waited for a connection (or opened a new one);
# one that found an idle connection takes a few microseconds.
WAITED_AFTER_SECONDS = 0.0005


class WatchedQueuePool(QueuePool):
    """A ``QueuePool`` that reports to ``observability/record.py``."""

    def __init__(self, creator: Any, pool_size: int = 5, max_overflow: int = 10, **kw: Any) -> None:
        super().__init__(creator, pool_size=pool_size, max_overflow=max_overflow, **kw)
        # A negative max_overflow means "no limit": count the pool's size only.
        self._capacity = pool_size + max(max_overflow, 0)
        self._counted = True
        record.pool_opened(capacity=self._capacity)

    def _do_get(self) -> ConnectionPoolEntry:
        started = time.perf_counter()
        try:
            entry = super()._do_get()
        except PoolTimeout:
            record.pool_timed_out()
            raise
        waited = time.perf_counter() - started
        record.pool_checked_out(waited=waited if waited > WAITED_AFTER_SECONDS else None)
        return entry

    def _do_return_conn(self, record_: ConnectionPoolEntry) -> None:
        record.pool_checked_in()
        super()._do_return_conn(record_)

    def dispose(self) -> None:
        # engine.dispose() disposes this pool and makes a new one: count capacity once.
        super().dispose()
        if self._counted:
            self._counted = False
            record.pool_opened(capacity=-self._capacity)
