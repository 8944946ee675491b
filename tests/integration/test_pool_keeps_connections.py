"""The PostgreSQL pool keeps every connection it opens (``db/engine.py``): as many at once
as before (twice ``db_pool_size``), but none is closed when handed back, so what psycopg
prepared on it is not lost and no new server process is started under a burst."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from fairslot.config import load_settings
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
