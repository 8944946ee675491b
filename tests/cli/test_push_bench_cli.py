"""``fairslot bench push`` at a tiny size (3 sessions x 5 slots), on SQLite with the sweeper
probe and on PostgreSQL without, and the checks and the probe's reading behind it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from conftest import PG_ADMIN_URL, require_postgres
from fairslot.bench.push import problems
from fairslot.bench.push_probe import Probe
from fairslot.bench.push_repository import Written
from fairslot.bench.push_world import PushShape
from fairslot.cli import common
from fairslot.cli.main import app
from fairslot.schedules.schemas import ImportReport

TIMING = {"wall_s", "import_s", "commit_s", "cpu_s", "statements", "outcomes"}


@pytest.fixture(autouse=True)
def wide_consoles(monkeypatch: pytest.MonkeyPatch) -> None:
    for shared in (common.console, common.err_console):
        monkeypatch.setattr(shared, "_width", 200)


def _bench(tmp_path: Path, *args: str) -> dict[str, Any]:
    out = tmp_path / "push.json"
    result = CliRunner().invoke(
        app, ["bench", "push", "--sessions", "3", "--slots", "5", "--json", str(out), *args]
    )
    assert result.exit_code == 0, (result.output, result.exception)
    document: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return document


def _check_push(document: dict[str, Any], *, backend: str) -> None:
    assert document["backend"] == backend
    assert (document["sessions"], document["slots_per_session"], document["slots"]) == (3, 5, 15)
    assert set(document["push"]) == TIMING and set(document["repush"]) == TIMING
    assert document["push"]["outcomes"]["created"] == 3
    assert document["repush"]["outcomes"]["unchanged"] == 3
    assert document["push"]["statements"] > 0 and document["push"]["wall_s"] > 0
    # Counted back from the database after the commit.
    assert document["written"] == {
        "sessions": 3,
        "slots": 15,
        "reserved_slots": 0,  # 10 % and 5 % of 5 slots round down to none
        "pushed_events": 15,
        "cooling_events": 0,
        "events": 15,
    }
    assert document["problems"] == []
    assert len(document["load_average"]) == 3


def test_the_push_bench_writes_the_slots_and_times_the_sweeper_next_to_it(
    tmp_path: Path,
) -> None:
    document = _bench(tmp_path, "--db", "sqlite", "--probe-interval", "0.05")

    _check_push(document, backend="sqlite")
    probe = document["probe"]
    assert set(probe) == {
        "interval_s",
        "baseline_median_s",
        "during_push",
        "during_push_max_s",
        "during_push_median_s",
        "failed",
    }
    assert probe["baseline_median_s"] is not None and probe["failed"] == 0


@pytest.mark.postgres
def test_the_push_bench_runs_on_a_postgresql_database_of_its_own(tmp_path: Path) -> None:
    require_postgres()
    document = _bench(tmp_path, "--db", "postgresql", "--pg-admin-url", PG_ADMIN_URL, "--no-probe")

    _check_push(document, backend="postgresql")
    assert document["probe"] is None


def test_the_checks_name_what_a_wrong_push_wrote() -> None:
    shape = PushShape(sessions=2, slots=3)
    first = ImportReport(hospital="H", created=2)
    again = ImportReport(hospital="H", unchanged=2)
    right = Written(
        sessions=2, slots=6, reserved_slots=0, pushed_events=6, cooling_events=0, events=6
    )
    short = Written(
        sessions=2, slots=5, reserved_slots=0, pushed_events=5, cooling_events=0, events=5
    )

    assert problems(shape, first=first, again=again, rows=right) == []
    assert problems(
        shape, first=first, again=ImportReport(hospital="H", updated=2), rows=short
    ) == [
        "the second push left 0 of 2 unchanged",
        "2 sessions and 5 slots stored",
        "5 pushed ledger rows for 6 slots",
    ]


def test_the_probe_counts_the_sweeps_that_overlapped_the_push_and_those_that_failed() -> None:
    probe = Probe(
        interval_s=0.2,
        samples=[
            (0.0, 0.01, True),  # alone
            (0.2, 0.23, True),  # alone
            (0.5, 3.0, True),  # waited for the push (1.0 .. 2.5) from before it began
            (1.5, 2.7, True),  # began during the push
            (2.0, 4.0, False),  # gave up
            (4.2, 4.21, True),  # after
        ],
    )

    summary = probe.summary(began=1.0, ended=2.5)

    assert summary == {
        "interval_s": 0.2,
        "baseline_median_s": 0.02,
        "during_push": 3,
        "during_push_max_s": 2.5,
        "during_push_median_s": 2.0,
        "failed": 1,
    }
