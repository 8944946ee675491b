"""``db/beside.py``: reads beside a transaction run on other connections only when they
would read what it reads; else in its own session, at once, in the order asked."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from fairslot.bootstrap import Platform
from fairslot.db.beside import Beside


def _pid(db: Session) -> int:
    return int(db.execute(text("SELECT pg_backend_pid()")).scalar_one())


def _thread(_: Session) -> int:
    return threading.get_ident()


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_on_postgresql_a_transaction_that_wrote_nothing_has_its_reads_run_beside(
    platform: Platform,
) -> None:
    prepared: list[int] = []
    with platform.sessions() as db, Beside(db, prepare=lambda s: prepared.append(_pid(s))) as b:
        own = _pid(db)
        pids = [b.submit(_pid) for _ in range(6)]
        threads = [b.submit(_thread) for _ in range(4)]
        found = {f.result() for f in pids}

        assert b.apart
        assert own not in found and 1 <= len(found) <= 2  # two workers, a session each
        assert sorted(found) == sorted(prepared)  # each session begun with ``prepare``
        assert threading.get_ident() not in {f.result() for f in threads}


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_a_failed_read_beside_is_raised_where_its_result_is_asked(platform: Platform) -> None:
    with platform.sessions() as db, Beside(db, prepare=lambda s: None) as b:
        failed = b.submit(lambda s: s.execute(text("SELECT 1/0")).scalar_one())
        fine = b.submit(lambda s: s.execute(text("SELECT 2")).scalar_one())

        with pytest.raises(Exception, match="division by zero"):
            failed.result()
        assert fine.result() == 2
        assert db.execute(text("SELECT 3")).scalar_one() == 3  # its own session is untouched


def test_after_a_write_the_reads_run_in_the_transaction_and_see_what_it_wrote(
    platform: Platform,
) -> None:
    with platform.sessions() as db:
        db.execute(text("CREATE TEMPORARY TABLE beside_probe (x INTEGER)"))
        db.execute(text("INSERT INTO beside_probe (x) VALUES (7)"))
        order: list[str] = []

        def read(name: str) -> int:
            order.append(name)
            return int(db.execute(text("SELECT x FROM beside_probe")).scalar_one())

        with Beside(db, prepare=lambda s: None) as b:
            first = b.submit(lambda s: read("first") if s is db else -1)
            second = b.submit(lambda s: read("second") if s is db else -1)
            order.append("asked")

            assert not b.apart
            assert (first.result(), second.result()) == (7, 7)
            assert order == ["first", "second", "asked"]  # at once, in the order asked
            assert b.submit(_thread).result() == threading.get_ident()
        db.rollback()


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_on_sqlite_the_reads_run_in_the_batchs_own_session(platform: Platform) -> None:
    with platform.sessions() as db, Beside(db, prepare=lambda s: None) as b:
        assert not b.apart
        assert b.submit(lambda s: s is db).result()


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
@pytest.mark.parametrize(("size", "overflow", "apart"), [(1, 0, False), (1, 1, True)])
def test_the_reads_take_at_most_half_the_pool(
    platform: Platform, size: int, overflow: int, apart: bool
) -> None:
    engine = create_engine(platform.engine.url, pool_size=size, max_overflow=overflow)
    try:
        with Session(engine) as db, Beside(db, prepare=lambda s: None) as b:
            own = _pid(db)
            found = {f.result() for f in [b.submit(_pid) for _ in range(4)]}

            assert b.apart is apart
            assert found == ({own} if not apart else found - {own}) and len(found) == 1
    finally:
        engine.dispose()
