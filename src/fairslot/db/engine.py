"""Engine and session factories. Nothing here runs at import time."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker

from fairslot.config import Settings
from fairslot.observability.pool import WatchedQueuePool


def make_engine(settings: Settings) -> Engine:
    url = settings.database_url
    if url.startswith("sqlite"):
        return _sqlite_engine(url, pool_size=settings.db_pool_size)
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    engine = create_engine(
        url,
        # QueuePool that reports use and waits to /metrics (observability/pool.py)
        poolclass=WatchedQueuePool,
        # Every connection the pool opens stays open: at most 2 x db_pool_size, as a pool
        # of db_pool_size with as many overflow connections allowed, but an overflow
        # connection is closed when handed back, and in the release burst the server
        # opened 10-15 a second — each a new server process with nothing prepared.
        pool_size=2 * settings.db_pool_size,
        max_overflow=0,
        pool_timeout=30,
        connect_args=(
            {"prepare_threshold": 0} if settings.db_server_prepares else {"prepare_threshold": None}
        ),
    )
    _ping_when_idle(engine)
    timeout = int(settings.db_lock_timeout_ms)

    @event.listens_for(engine, "connect")
    def _set_timeouts(dbapi_connection: Any, _record: Any) -> None:
        # A waiting claim must give up rather than hang a worker forever.
        with dbapi_connection.cursor() as cursor:
            cursor.execute(f"SET lock_timeout = {timeout}")
        dbapi_connection.commit()
        if settings.db_server_prepares:
            dbapi_connection.prepared_max = PREPARED_MAX

    return engine


# Server-side prepared statements (psycopg): every statement is prepared on its first
# execution on a connection (``prepare_threshold`` 0) rather than its sixth, and a
# connection keeps up to this many. psycopg forgets them all at any rollback, and a
# connection then parsed and planned each hot statement five times over before preparing
# it again: measured in the release burst, PostgreSQL's CPU per hold 3.18 / 3.65 ms
# (by slot / by session) with the default, 2.75 / 3.16 ms prepared at once, and per
# confirmation 2.52 -> 2.15 ms. More kept than psycopg's 100, so that statements run
# once in a while (the console's, the sweeper's) do not push the hot ones out.
PREPARED_MAX = 256

# A pooled connection idle this long is pinged before use.
PING_AFTER_IDLE_SECONDS = 10.0


def _ping_when_idle(engine: Engine) -> None:
    """Check a pooled connection before use only if it sat idle for a while.

    A connection that waited in the pool may have been closed under it (a server restart,
    a failover, an idle timeout); one handed back a moment ago has not. ``pool_pre_ping``
    pings on every checkout, and a request checks out two to four times (authentication
    ends its transaction at once; a refusal is recorded after the rollback): counted, 2
    extra round trips for a hold that wins, 4 for a refused one next to its 12 statements.
    A failed ping makes the pool replace the connection, as pre-ping does.
    """

    @event.listens_for(engine, "checkin")
    def _idle_from(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
            dbapi_connection.rollback()  # the ping's own transaction
        except engine.dialect.loaded_dbapi.Error as exc:
            raise DisconnectionError("a pooled connection was closed while idle") from exc


def _sqlite_engine(url: str, *, pool_size: int) -> Engine:
    # The same pool bounds as PostgreSQL's (a file database; :memory: uses its own pool).
    sizing: dict[str, Any] = (
        {}
        if ":memory:" in url
        else {"pool_size": pool_size, "max_overflow": pool_size, "poolclass": WatchedQueuePool}
    )
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **sizing)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transactions into our own hands: pysqlite's implicit BEGIN would let two
        # writers both read and then deadlock on upgrading their locks.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        if ":memory:" not in url:
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Writers serialise at BEGIN; SQLite is the single-hospital/demo backend. A
        # session that only reads may ask for a deferred BEGIN (see make_session_factory).
        mode = conn.get_execution_options().get("sqlite_begin", "IMMEDIATE")
        conn.exec_driver_sql(f"BEGIN {mode}")

    return engine


def make_session_factory(engine: Engine, *, reader: bool = False) -> sessionmaker[Session]:
    """Sessions for use cases. ``reader=True`` sessions start with a deferred BEGIN on
    SQLite, so they do not hold the write lock while they only read (PostgreSQL: no-op)."""
    bind = engine.execution_options(sqlite_begin="DEFERRED") if reader else engine
    return sessionmaker(bind=bind, expire_on_commit=False, autoflush=False)


@contextmanager
def unit_of_work(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One transaction: commits if the block succeeds, rolls back otherwise."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
