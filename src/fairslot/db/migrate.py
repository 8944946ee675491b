"""Run Alembic from code: the only way fairslot's schema is made, tests included."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(database_url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if database_url:
        config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(engine: Engine, revision: str = "head", *, protector: object | None = None) -> None:
    """``protector`` (a ``crypto.Protector``): the keys a data migration hashes and encrypts
    existing rows with (0009); without it the migration builds one from the settings."""
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        if protector is not None:
            config.attributes["protector"] = protector
        command.upgrade(config, revision)


def check(engine: Engine) -> None:
    """Fail if the models and the migrations disagree (``alembic check``)."""
    config = alembic_config()
    with engine.connect() as connection:
        config.attributes["connection"] = connection
        command.check(config)


def downgrade(engine: Engine, revision: str) -> None:
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def head() -> str:
    head_revision = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head_revision is not None
    return head_revision
