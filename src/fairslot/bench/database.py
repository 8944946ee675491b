"""A fresh database for one run: a SQLite file in a temporary folder, or a PostgreSQL
database created for the run and dropped after it."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.engine import make_url

from fairslot.db.scratch import scratch_postgres

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
    url = make_url(pg_admin_url).set(drivername="postgresql", database=f"{prefix}_{token}")
    with scratch_postgres(url.render_as_string(hide_password=False)) as fresh:
        yield fresh
