"""Databases made for one run and dropped after it: a benchmark's, a simulation's, a test
session's. Only ever a database the run created itself: an existing one is refused, so a
mistyped URL can never fill (or drop) a real database."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

DEFAULT_PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


class DatabaseExists(RuntimeError):
    """The run only ever fills a database it created itself."""


@contextmanager
def scratch_postgres(url: str, *, keep: bool = False) -> Iterator[str]:
    """Create the PostgreSQL database ``url`` names (refusing one that exists) through the
    server's ``postgres`` database, yield ``url``, and drop it afterwards unless ``keep``."""
    parsed = make_url(url)
    name = parsed.database
    if not name or not name.replace("_", "").isalnum():
        raise ValueError("a scratch database name must be letters, digits and _")
    admin_url = parsed.set(drivername="postgresql+psycopg", database="postgres")
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            exists = conn.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
            ).first()
            if exists:
                raise DatabaseExists(f"database {name} exists; name a fresh one")
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield url
        finally:
            if not keep:
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


@contextmanager
def fresh_database(
    *,
    backend: str,
    token: str,
    pg_admin_url: str = DEFAULT_PG_ADMIN,
    prefix: str = "fairslot_bench",
) -> Iterator[str]:
    """Yield the URL of an empty database that is gone after the block (a PostgreSQL
    one is named ``{prefix}_{token}``)."""
    if backend == "sqlite":
        folder = Path(tempfile.mkdtemp(prefix="fairslot-scratch-"))
        try:
            yield f"sqlite:///{folder / 'bench.db'}"
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return
    if backend != "postgresql":
        raise ValueError(f"unknown backend {backend!r}")
    url = make_url(pg_admin_url).set(drivername="postgresql", database=f"{prefix}_{token}")
    with scratch_postgres(url.render_as_string(hide_password=False)) as made:
        yield made
