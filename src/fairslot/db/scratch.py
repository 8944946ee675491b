"""Databases made for one run and dropped after it: a benchmark's, a simulation's, a test
session's. Only ever a database the run created itself: an existing one is refused, so a
mistyped URL can never fill (or drop) a real database."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url


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
