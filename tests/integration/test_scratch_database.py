"""Scratch PostgreSQL databases: made for one run, dropped after it, never an existing one."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import create_engine, text

from conftest import PG_ADMIN_URL, require_postgres
from fairslot.db.scratch import DatabaseExists, scratch_postgres


def _exists(name: str) -> bool:
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            found = conn.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
            ).first()
        return found is not None
    finally:
        admin.dispose()


def _url(name: str) -> str:
    return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


def test_a_scratch_database_exists_inside_the_block_and_is_gone_after_it() -> None:
    require_postgres()
    name = f"fairslot_scratch_{uuid.uuid4().hex[:8]}"
    with scratch_postgres(_url(name)) as url:
        assert url == _url(name) and _exists(name)
    assert not _exists(name)


def test_an_existing_database_is_refused_and_left_alone() -> None:
    require_postgres()
    name = f"fairslot_scratch_{uuid.uuid4().hex[:8]}"
    with scratch_postgres(_url(name)):
        with pytest.raises(DatabaseExists), scratch_postgres(_url(name)):
            pass
        assert _exists(name)
    assert not _exists(name)


def test_kept_means_kept() -> None:
    require_postgres()
    name = f"fairslot_scratch_{uuid.uuid4().hex[:8]}"
    with scratch_postgres(_url(name), keep=True):
        pass
    try:
        assert _exists(name)
    finally:
        admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.mark.parametrize("name", ["", "bad-name", 'x"; DROP DATABASE test; --'])
def test_a_name_that_is_not_letters_digits_and_underscores_is_refused(name: str) -> None:
    with pytest.raises(ValueError), scratch_postgres(_url(name)):
        pass
