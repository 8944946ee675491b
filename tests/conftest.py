"""Shared fixtures: a migrated database per backend, a manual clock and a seeded RNG.

The test platform counts its rate limits on that manual clock (:func:`limits_on_clock`), as
the demo's replay does: a test's requests are as many per second as the test says by moving
the clock, never as many as the machine manages, so no test depends on the machine's speed.

SQLite: the schema is built once with the migrations into a template file that each test
copies. PostgreSQL: one database per test worker, built with the migrations, truncated
between tests. Outside CI a missing PostgreSQL skips its tests with a reason; under
``CI=true`` it fails them.
"""

from __future__ import annotations

import os
import random
import shutil
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session

from fairslot.bootstrap import Platform, bootstrap
from fairslot.clock import ManualClock
from fairslot.config import Settings, load_settings
from fairslot.db import migrate
from fairslot.db.engine import make_engine, make_session_factory
from fairslot.db.registry import Base
from fairslot.db.scratch import scratch_postgres
from fairslot.gate.ratelimit import MemoryWindows, RateLimiter
from fairslot.signin.service import CODE_LIMITS_PER_CLIENT, CODE_LIMITS_PER_PHONE

IN_CI = os.environ.get("CI", "").lower() == "true"
# Tests read a request's record right after its answer: each is written in its request's
# transaction, as before batching (audit/recorder.py). Servers the tests start inherit it;
# tests of the batched records ask for them (tests/integration/test_request_record_batches.py).
os.environ.setdefault("FAIRSLOT_REQUEST_RECORD_FLUSH_MS", "0")
PG_ADMIN_URL = os.environ.get(
    "FAIRSLOT_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
START = datetime(2026, 11, 22, 0, 0, tzinfo=UTC)  # 08:00 in Shanghai

# world, client, it_admin and two reviewers, shared by the test folders.
pytest_plugins = (
    "factories.fixtures",
    "factories.browser",
    "factories.console",
    "factories.patient_pages",
)


def _pg_available() -> str | None:
    try:
        engine = create_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as exc:
        return f"PostgreSQL not reachable at {PG_ADMIN_URL}: {exc.__class__.__name__}"
    return None


def require_postgres() -> None:
    reason = _pg_available()
    if reason is None:
        return
    if IN_CI:
        pytest.fail(f"CI=true but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = make_engine(load_settings(database_url=f"sqlite:///{path}"))
    migrate.upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    require_postgres()
    # Unique per run and per worker: parallel runs on one server must not share a database.
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    name = f"fairslot_test_{worker}_{uuid.uuid4().hex[:8]}"
    with scratch_postgres(PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}") as url:
        engine = make_engine(load_settings(database_url=url))
        migrate.upgrade(engine)
        engine.dispose()
        yield url


def _truncate(engine: Engine) -> None:
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def database_url(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path
) -> str:
    if backend == "sqlite":
        path = tmp_path / "fairslot.db"
        shutil.copy(sqlite_template, path)
        return f"sqlite:///{path}"
    return str(request.getfixturevalue("pg_database"))


@pytest.fixture
def settings(database_url: str) -> Settings:
    # Most tests play first-come clinics that have no release history; the platform's
    # caution about those (``scarce_without_history``, on by default: batched from their
    # first release) would turn them into release batches. Tests of that default ask for
    # ``platform_default_settings`` (tests/integration/test_release_batch_day_one.py).
    return load_settings(database_url=database_url, db_pool_size=5, scarce_without_history=False)


@pytest.fixture
def platform_default_settings(database_url: str) -> Settings:
    """The platform's own defaults, caution about clinics without history included."""
    return load_settings(database_url=database_url, db_pool_size=5)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


def limits_on_clock(platform: Platform, clock: ManualClock) -> None:
    """Count the platform's rate limits (the requests' and the sign-in codes') in memory on
    ``clock`` instead of the real one: requests made at one instant of the manual clock are
    simultaneous, and a window passes when the test moves the clock past it."""
    enabled = platform.settings.rate_limit_enabled

    def limiter(limits: str) -> RateLimiter:
        windows = MemoryWindows(now=lambda: clock.now().timestamp())
        return RateLimiter(limits=limits, windows=windows, enabled=enabled)

    platform.limiter = limiter(platform.settings.rate_limits)
    platform.extras["signin_limiters"] = (
        limiter(CODE_LIMITS_PER_PHONE),
        limiter(CODE_LIMITS_PER_CLIENT),
    )


@pytest.fixture
def platform(settings: Settings, clock: ManualClock, backend: str) -> Iterator[Platform]:
    plat = bootstrap(settings, clock=clock, rng=random.Random(1234))
    limits_on_clock(plat, clock)
    if backend == "postgresql":
        _truncate(plat.engine)
    yield plat
    plat.engine.dispose()


@pytest.fixture
def db(platform: Platform) -> Iterator[Session]:
    """A session for arranging and checking; tests commit what they arrange.

    On SQLite it begins deferred, so a test reading between requests does not hold the
    write lock the API needs.
    """
    session = make_session_factory(platform.engine, reader=True)()
    yield session
    session.rollback()
    session.close()
