"""A fresh database for one run: a SQLite file in a temporary folder, or a PostgreSQL
database created for the run and dropped after it."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

DEFAULT_PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


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
        folder = Path(tempfile.mkdtemp(prefix="fairslot-bench-"))
        try:
            yield f"sqlite:///{folder / 'bench.db'}"
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return
    if backend != "postgresql":
        raise ValueError(f"unknown backend {backend!r}")
    name = f"{prefix}_{token}"
    admin_url = make_url(pg_admin_url).set(drivername="postgresql+psycopg")
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            url = admin_url.set(database=name, drivername="postgresql")
            yield url.render_as_string(hide_password=False)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()
