"""``db/core.py::discard``: a refused request's transaction keeps nothing, on both
backends; on PostgreSQL one that wrote nothing ends with ``COMMIT`` (a rollback makes
psycopg forget every statement it prepared on the connection)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.orm import Session

from factories.statements import transaction_ends
from factories.world import World
from fairslot.bootstrap import Platform
from fairslot.db.core import discard
from fairslot.hospitals.models import Hospital


@pytest.fixture
def ends(platform: Platform) -> Iterator[list[str]]:
    with transaction_ends(platform.engine) as seen:
        yield seen


def _name(world: World) -> str:
    with world.platform.sessions() as db:
        return str(db.scalar(select(Hospital.name).where(Hospital.id == world.hospital.id)))


def test_a_transaction_that_only_read_commits_on_postgresql_and_rolls_back_on_sqlite(
    world: World, backend: str, ends: list[str]
) -> None:
    with world.platform.sessions() as db:
        db.scalar(select(Hospital.name).where(Hospital.id == world.hospital.id))
        discard(db)
        assert not db.in_transaction()

    assert ends == (["commit"] if backend == "postgresql" else ["rollback"])


def test_a_transaction_that_wrote_is_rolled_back(world: World, ends: list[str]) -> None:
    before = _name(world)
    ends.clear()  # the read's own end
    with world.platform.sessions() as db:
        db.execute(
            text("UPDATE hospitals SET name = 'written' WHERE id = :id"), {"id": world.hospital.id}
        )
        discard(db)

    assert ends == ["rollback"]
    assert _name(world) == before


def test_a_row_locked_for_update_counts_as_written(world: World, ends: list[str]) -> None:
    with world.platform.sessions() as db:
        db.scalar(select(Hospital.id).where(Hospital.id == world.hospital.id).with_for_update())
        discard(db)

    assert ends == ["rollback"]


def test_objects_pending_in_the_session_are_never_flushed(world: World, ends: list[str]) -> None:
    before = _name(world)
    ends.clear()  # the read's own end
    with world.platform.sessions() as db:
        hospital = db.get(Hospital, world.hospital.id)
        assert hospital is not None
        hospital.name = "pending"
        discard(db)

    assert ends == ["rollback"]
    assert _name(world) == before


def test_a_failed_transaction_is_rolled_back_and_the_session_serves_again(
    world: World, ends: list[str]
) -> None:
    with world.platform.sessions() as db:
        db.scalar(select(Hospital.id).limit(1))
        with pytest.raises((ProgrammingError, OperationalError)):
            db.execute(text("SELECT no_such_column FROM hospitals"))
        discard(db)

        assert ends[-1] == "rollback"
        assert db.scalar(select(Hospital.id).where(Hospital.id == world.hospital.id))


def test_a_session_with_no_transaction_is_left_alone(platform: Platform, ends: list[str]) -> None:
    db: Session
    with platform.sessions() as db:
        discard(db)

    assert ends == []
