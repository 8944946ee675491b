"""The PostgreSQL pool keeps every connection it opens (``db/engine.py``): as many at once
as before (twice ``db_pool_size``), but none is closed when handed back, so what psycopg
prepared on it is not lost and no new server process is started under a burst."""

from __future__ import annotations

import pytest
from sqlalchemy import Connection, text

from fairslot.config import load_settings
from fairslot.db import engine as engine_module
from fairslot.db.engine import make_engine

pytestmark = pytest.mark.postgres


def test_connections_handed_back_after_a_busy_moment_stay_open(pg_database: str) -> None:
    engine = make_engine(load_settings(database_url=pg_database, db_pool_size=2))
    try:
        busy = [engine.connect() for _ in range(4)]  # twice db_pool_size at once
        pids = {c.execute(text("SELECT pg_backend_pid()")).scalar_one() for c in busy}
        for connection in busy:
            connection.close()

        assert engine.pool.checkedin() == 4  # type: ignore[attr-defined]
        again = [engine.connect() for _ in range(4)]
        assert {c.execute(text("SELECT pg_backend_pid()")).scalar_one() for c in again} == pids
        for connection in again:
            connection.close()
    finally:
        engine.dispose()


def _prepared(connection: Connection) -> set[str]:
    return set(connection.execute(text("SELECT statement FROM pg_prepared_statements")).scalars())


def test_a_statement_is_prepared_on_its_first_execution_and_outlives_an_idle_ping(
    pg_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # psycopg forgets what it prepared at any rollback; prepared at once, a hot statement
    # is not parsed and planned five times over after one (db/engine.py::PREPARED_MAX).
    monkeypatch.setattr(engine_module, "PING_AFTER_IDLE_SECONDS", 0.0)  # ping every checkout
    engine = make_engine(load_settings(database_url=pg_database, db_pool_size=1))
    statement = text("SELECT count(*) FROM pg_class WHERE relname = :name")
    try:
        with engine.connect() as connection:
            raw = connection.connection.dbapi_connection
            assert raw is not None and raw.prepared_max == engine_module.PREPARED_MAX
            connection.execute(statement, {"name": "slots"})
            assert any("FROM pg_class WHERE relname" in s for s in _prepared(connection))
            connection.commit()
        with engine.connect() as connection:  # the same connection, pinged at checkout
            assert any("FROM pg_class WHERE relname" in s for s in _prepared(connection))
    finally:
        engine.dispose()
