"""The watched pool (``observability/pool.py``) on a real SQLite engine: connections in
use follow checkouts and returns, a checkout that gives up is counted, and disposing the
engine does not count its capacity twice. And, for PgBouncer, server-side prepares can be
turned off (``db_server_prepares``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import TimeoutError as PoolTimeout

from fairslot.config import load_settings
from fairslot.db.engine import make_engine
from fairslot.observability import record
from fairslot.observability.pool import WatchedQueuePool


def figures() -> tuple[float, float, float]:
    """Connections in use, pool capacity and timeouts, as a scrape reads them."""
    made = record.instruments()
    return tuple(  # type: ignore[return-value]
        next(s.value for s in metric.collect()[0].samples if not s.name.endswith("_created"))
        for metric in (made.pool_in_use, made.pool_size, made.pool_timeouts)
    )


def test_the_pool_counts_connections_in_use_timeouts_and_its_capacity(tmp_path: Path) -> None:
    in_use, size, timeouts = figures()
    engine = create_engine(
        f"sqlite:///{tmp_path / 'pool.db'}",
        poolclass=WatchedQueuePool,
        pool_size=1,
        max_overflow=0,
        pool_timeout=0.05,
    )
    assert figures()[1] == size + 1

    with engine.connect() as held:
        held.execute(text("SELECT 1"))
        assert figures()[0] == in_use + 1
        # The only connection is taken: the next checkout waits out the timeout.
        with pytest.raises(PoolTimeout):
            engine.connect()
        assert figures()[2] == timeouts + 1
    assert figures()[0] == in_use

    engine.dispose()  # a new pool of the same size replaces the old one
    assert figures()[1] == size + 1
    engine.dispose()
    assert figures()[1] == size + 1


@pytest.mark.postgres
def test_server_side_prepares_can_be_turned_off_for_an_old_transaction_pooler(
    pg_database: str,
) -> None:
    for prepares, threshold in ((True, 0), (False, None)):
        engine = make_engine(
            load_settings(database_url=pg_database, db_pool_size=1, db_server_prepares=prepares)
        )
        try:
            with engine.connect() as connection:
                raw = connection.connection.dbapi_connection
                assert raw is not None
                assert raw.prepare_threshold == threshold
        finally:
            engine.dispose()
