"""Where the benchmark's rows go: a fresh database, filled by the fastest path each backend
has (PostgreSQL ``COPY`` from spooled text, SQLite ``executemany``), and dropped after.

The benchmark's only queries; they are bulk loads and database administration, not
platform reads, so they stay out of the domain repositories.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import psycopg
from sqlalchemy import (
    Column,
    Engine,
    MetaData,
    Table,
    Text,
    func,
    insert,
    inspect,
    select,
    text,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from fairslot.bench.riskweek.data import COLUMNS, LOAD_ORDER, Row
from fairslot.db.scratch import DatabaseExists, scratch_postgres
from fairslot.risk.models import RiskAlert


def is_postgres(url: str) -> bool:
    return url.startswith("postgresql")


@contextmanager
def fresh_database(url: str, *, keep: bool) -> Iterator[None]:
    """Create the database ``url`` names (refusing one that exists), drop it afterwards
    unless ``keep``."""
    if is_postgres(url):
        with scratch_postgres(url, keep=keep):
            yield
        return
    path = Path(make_url(url).database or "")
    if not str(path) or path.exists():
        raise DatabaseExists(f"{path} exists; name a fresh SQLite file")
    try:
        yield
    finally:
        if not keep:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)


class CopySink:
    """Spools each table's rows as COPY text in a temporary file, loads them in key order."""

    def __init__(self) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="fairslot-bench-")
        self._files: dict[str, IO[str]] = {
            table: open(  # noqa: SIM115 - closed in load()
                os.path.join(self._dir.name, f"{table}.tsv"), "w", encoding="utf-8"
            )
            for table in COLUMNS
        }
        self.counts = dict.fromkeys(COLUMNS, 0)

    def row(self, table: str, values: Row) -> None:
        self.counts[table] += 1
        self._files[table].write("\t".join(["\\N" if v is None else v for v in values]) + "\n")

    def load(self, engine: Engine) -> None:
        url = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        with psycopg.connect(url) as conn:
            with conn.cursor() as cur:
                for table in LOAD_ORDER:
                    handle = self._files[table]
                    handle.close()
                    columns = ", ".join(COLUMNS[table])
                    with (
                        open(handle.name, encoding="utf-8") as source,
                        cur.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
                    ):
                        while chunk := source.read(1 << 20):
                            copy.write(chunk)
                    if "id" in COLUMNS[table] and table not in ("slots", "bookings"):
                        # Table names come from COLUMNS, never from input.
                        restart = f"(SELECT coalesce(max(id), 1) FROM {table})"  # noqa: S608
                        cur.execute(
                            f"SELECT setval(pg_get_serial_sequence(%s, 'id'), {restart})",
                            (table,),
                        )
            conn.commit()
            conn.autocommit = True
            conn.execute("ANALYZE")  # as autovacuum would before the night's batch
        self._dir.cleanup()


class ManySink:
    """Keeps rows in memory and inserts them with ``executemany`` (SQLite, small sizes)."""

    def __init__(self) -> None:
        self.rows: dict[str, list[Row]] = {table: [] for table in COLUMNS}

    @property
    def counts(self) -> dict[str, int]:
        return {table: len(rows) for table, rows in self.rows.items()}

    def row(self, table: str, values: Row) -> None:
        self.rows[table].append(values)

    def load(self, engine: Engine) -> None:
        with engine.begin() as conn:
            for table in LOAD_ORDER:
                columns = COLUMNS[table]
                marks = ", ".join("?" for _ in columns)
                if self.rows[table]:
                    conn.exec_driver_sql(
                        # Table and column names come from COLUMNS, never from input.
                        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",  # noqa: S608
                        self.rows[table],
                    )
        self.rows = {table: [] for table in COLUMNS}


# The kept week's answer key (``kept.py``): the bench's own table, beside the platform's
# (not in the platform's metadata, so no migration knows it).
ANSWERS = Table("bench_kept_week", MetaData(), Column("answers", Text, nullable=False))


class NotAKeptWeek(LookupError):
    """The database holds no week kept by ``fairslot risk bench --keep``."""


def require_kept_file(url: str) -> None:
    """A SQLite week for ``--reuse`` must exist: opening a missing file would create an
    empty one. (A missing PostgreSQL database fails to open: ``kept_answers``.)"""
    if not is_postgres(url):
        path = Path(make_url(url).database or "")
        if not str(path) or not path.is_file():
            raise NotAKeptWeek(f"{path} is not a kept week; keep one first with --keep")


def keep_answers(engine: Engine, answers: str) -> None:
    with engine.begin() as conn:
        ANSWERS.create(conn)
        conn.execute(insert(ANSWERS).values(answers=answers))


def kept_answers(engine: Engine) -> str:
    """The answer key stored beside the week; NotAKeptWeek when there is none."""
    try:
        with engine.connect() as conn:
            if inspect(conn).has_table(ANSWERS.name):
                return str(conn.execute(select(ANSWERS.c.answers)).scalar_one())
    except OperationalError as exc:  # e.g. no such PostgreSQL database
        raise NotAKeptWeek(f"cannot open the kept week: {exc.orig}") from exc
    raise NotAKeptWeek("the database holds no kept week; keep one first with --keep")


def alerts_of(db: Session, *, run_date: object) -> list[RiskAlert]:
    return list(db.scalars(select(RiskAlert).where(RiskAlert.run_date == run_date)))


def table_rows(db: Session, *, table: str) -> int:
    return int(db.execute(select(func.count()).select_from(text(table))).scalar_one())
