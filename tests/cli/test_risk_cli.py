"""``fairslot risk run`` and ``fairslot risk bench``, run in-process against real databases."""

from __future__ import annotations

import re
import sqlite3
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from conftest import PG_ADMIN_URL, require_postgres
from factories.risk_batch import Scenes
from factories.world import World
from fairslot.cli import common
from fairslot.cli.main import app
from fairslot.config import Settings

Cli = Callable[..., Result]


@pytest.fixture(autouse=True)
def wide_consoles(monkeypatch: pytest.MonkeyPatch) -> None:
    """Print as on a wide terminal, so the words the tests look for are not folded."""
    for shared in (common.console, common.err_console):
        monkeypatch.setattr(shared, "_width", 200)


def runner(url: str) -> Cli:
    invoker = CliRunner()

    def run(*args: str, expect: int = 0) -> Result:
        result = invoker.invoke(app, list(args), env={"FAIRSLOT_DATABASE_URL": url})
        assert result.exit_code == expect, (result.output, result.exception)
        return result

    return run


def test_risk_run_prints_hits_by_rule_cases_and_timing_and_a_rerun_adds_nothing(
    world: World, settings: Settings
) -> None:
    scenes = Scenes(world)
    session = world.session(capacity=6)
    for _ in range(5):
        scenes.book(scenes.person(payer="6222020099998888"), session)
    cli = runner(settings.database_url)

    first = cli("risk", "run", "--date", "2026-11-22").output

    assert "run 1 of this date" in first
    assert re.search(r"same_payment_same_department\s+│\s+1 │\s+1 │", first)
    assert "cases: 1 opened, 0 updated" in first
    assert "timing" in first and "intake" in first
    again = cli("risk", "run", "--date", "2026-11-22").output
    assert "run 2 of this date" in again
    assert re.search(r"same_payment_same_department\s+│\s+1 │\s+0 │", again)
    assert "cases: 0 opened, 0 updated" in again


def test_risk_run_refuses_a_date_it_cannot_read(settings: Settings) -> None:
    result = runner(settings.database_url)("risk", "run", "--date", "22/11/2026", expect=2)
    assert "YYYY-MM-DD" in result.output


def test_risk_bench_builds_a_small_week_on_sqlite_times_the_batch_and_cleans_up(
    tmp_path: Path,
) -> None:
    target = tmp_path / "bench.db"
    cli = runner(f"sqlite:///{tmp_path / 'unused.db'}")

    out = cli(
        "risk", "bench", "--bookings", "1500", "--days", "7",
        "--database-url", f"sqlite:///{target}",
    ).output  # fmt: skip

    assert re.search(r"bookings\s+│\s+1,500 │", out)
    assert re.search(r"request_records\s+│\s+[\d,]+ │", out)
    assert "request records: bind_patient ok" in out
    assert "confirm ok review" in out and "hold session_full" in out
    # Every planted pattern is caught (one of each at this size), the grab software that
    # booked nothing only through the gate's request records.
    for pattern in (
        "shared card, one department",
        "transfer (cancel and rebook)",
        "ring (devices and a card)",
        "man booking gynaecology",
        "one identity, many departments",
        "serial canceller",
        "grab software that lost",
    ):
        assert re.search(re.escape(pattern) + r"\s+│\s+1 │\s+1 │", out), pattern
    assert "families sharing one phone" in out and "flagged: 0" in out
    assert "batch over 1,500 bookings in 7 days" in out
    assert not target.exists()


def test_risk_bench_keeps_a_week_and_times_the_batch_over_it_again_with_reuse(
    tmp_path: Path,
) -> None:
    target = tmp_path / "kept.db"
    cli = runner(f"sqlite:///{tmp_path / 'unused.db'}")
    url = f"sqlite:///{target}"

    first = cli("risk", "bench", "--bookings", "1500", "--database-url", url, "--keep").output
    again = cli("risk", "bench", "--reuse", "--database-url", url).output
    third = cli("risk", "bench", "--reuse", "--database-url", url).output

    assert target.exists()
    assert "kept week: 1,500 bookings in 7 days, seed 20261122, 7 planted" in again
    assert "synthetic week" not in again  # nothing generated
    # The batch's output was rolled back each time: every run finds and judges the same.
    runs = (first, again, third)
    verdicts = [out[out.index("planted scalpers") : out.index("batch over")] for out in runs]
    assert len(set(verdicts)) == 1 and "flagged: 0" in verdicts[0]
    assert re.search(r"grab software that lost\S*\s+│\s+1 │\s+1 │", again)
    assert all("(run 1 of this date)" in out for out in runs)


@pytest.mark.postgres
def test_risk_bench_keeps_a_week_on_postgresql_and_reuses_it(tmp_path: Path) -> None:
    require_postgres()
    name = f"fairslot_test_kept_{uuid.uuid4().hex[:8]}"
    url = PG_ADMIN_URL.replace("postgresql+psycopg://", "postgresql://").rsplit("/", 1)[0]
    url += f"/{name}"
    cli = runner(f"sqlite:///{tmp_path / 'unused.db'}")
    try:
        first = cli("risk", "bench", "--bookings", "800", "--database-url", url, "--keep").output
        again = cli("risk", "bench", "--reuse", "--database-url", url).output
    finally:
        with create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT").connect() as admin:
            admin.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    assert "kept week: 800 bookings in 7 days" in again
    verdicts = [
        out[out.index("planted scalpers") : out.index("batch over")] for out in (first, again)
    ]
    assert verdicts[0] == verdicts[1] and "flagged: 0" in verdicts[0]
    assert "(run 1 of this date)" in again


def test_risk_bench_reuse_refuses_a_database_that_holds_no_kept_week(tmp_path: Path) -> None:
    cli = runner(f"sqlite:///{tmp_path / 'unused.db'}")
    missing = tmp_path / "missing.db"

    absent = cli("risk", "bench", "--reuse", "--database-url", f"sqlite:///{missing}", expect=1)
    bare = tmp_path / "bare.db"
    sqlite3.connect(bare).close()
    empty = cli("risk", "bench", "--reuse", "--database-url", f"sqlite:///{bare}", expect=1)

    assert "not_a_kept_week" in absent.output and not missing.exists()
    assert "not_a_kept_week" in empty.output and "--keep" in empty.output


def test_risk_bench_refuses_a_database_that_already_exists(tmp_path: Path) -> None:
    target = tmp_path / "taken.db"
    target.write_text("")
    cli = runner(f"sqlite:///{tmp_path / 'unused.db'}")

    result = cli("risk", "bench", "--bookings", "500", "--database-url", f"sqlite:///{target}",
                 expect=1)  # fmt: skip

    assert "database_exists" in result.output
    assert target.read_text() == ""
