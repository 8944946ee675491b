"""Alembic environment: the URL comes from fairslot's settings unless the caller set one."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from fairslot.config import load_settings
from fairslot.db.engine import make_engine
from fairslot.db.registry import Base

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = config.get_main_option("sqlalchemy.url") or load_settings().database_url
    engine = make_engine(load_settings(database_url=url))
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("fairslot migrations run online only")
run_migrations_online()
