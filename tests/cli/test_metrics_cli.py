"""``fairslot metrics`` as a table, CSV and JSON (stdout or a file), over the two hand-built
days of ``factories/metrics_data.py``, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import Result
from typer.testing import CliRunner

from factories.metrics_data import DAY1, DAY2, MetricsPeriod, hand_built_period
from fairslot.cli import common
from fairslot.cli.main import app

PERIOD = ("--from", DAY1.isoformat(), "--to", DAY2.isoformat())


@pytest.fixture(autouse=True)
def wide_consoles(monkeypatch: pytest.MonkeyPatch) -> None:
    # Off a terminal Rich takes 80 columns and folds the words the tests look for.
    for shared in (common.console, common.err_console):
        monkeypatch.setattr(shared, "_width", 250)


@pytest.fixture
def days(db, platform) -> MetricsPeriod:
    return hand_built_period(db, platform)


def metrics(settings, *args: str, expect: int = 0) -> Result:
    result = CliRunner().invoke(
        app, ["metrics", *args], env={"FAIRSLOT_DATABASE_URL": settings.database_url}
    )
    assert result.exit_code == expect, (result.output, result.exception)
    return result


def test_the_table_shows_each_figure_overall_and_per_hospital_and_channel(
    settings, days: MetricsPeriod
) -> None:
    out = metrics(settings, *PERIOD).stdout
    assert "Quality metrics 2026-11-22 – 2026-11-23 (Asia/Shanghai)" in out
    success = next(line for line in out.splitlines() if "booking success" in line)
    # overall, H, H2, C, C2
    # Cells stripped: a column's width follows its longest cell (the scopes' random codes).
    assert [cell.strip() for cell in success.split("│")[2:7]] == [
        "83.3% (5/6)",
        "80.0% (4/5)",
        "100.0% (1/1)",
        "80.0% (4/5)",
        "100.0% (1/1)",
    ]
    assert "90 s" in next(line for line in out.splitlines() if "median" in line)
    assert days.h2.code in out and days.c2.code in out


def test_csv_has_one_row_per_scope_on_stdout(settings, days: MetricsPeriod) -> None:
    out = metrics(settings, *PERIOD, "--format", "csv").stdout
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [(r["scope"], r["code"]) for r in rows] == [
        ("overall", ""),
        ("hospital", days.hospital.code),
        ("hospital", days.h2.code),
        ("channel", days.channel.code),
        ("channel", days.c2.code),
    ]
    overall = rows[0]
    assert (overall["attempts"], overall["booked_attempts"], overall["no_shows"]) == ("6", "5", "1")
    assert overall["time_to_book_p90_s"] == "228.0"
    assert rows[2]["no_show_rate"] == ""  # no session of H2 in the period: no data


def test_json_narrowed_to_a_hospital_and_a_channel_is_written_to_the_file_given(
    settings, days: MetricsPeriod, tmp_path: Path
) -> None:
    path = tmp_path / "metrics.json"
    args = ("--hospital", days.hospital.code, "--channel", days.channel.code)
    result = metrics(settings, *PERIOD, *args, "--format", "json", "--out", str(path))
    assert "wrote" in result.stderr
    body = json.loads(path.read_text(encoding="utf-8"))
    assert (body["hospital_id"], body["channel_id"]) == (days.hospital.id, days.channel.id)
    assert (body["overall"]["booked_attempts"], body["overall"]["attempts"]) == (4, 5)
    assert [row["code"] for row in body["channels"]] == [days.channel.code]


def test_an_unknown_hospital_code_is_refused_with_its_code(settings, days: MetricsPeriod) -> None:
    result = metrics(settings, *PERIOD, "--hospital", "NOPE", expect=1)
    assert "hospital_not_found" in result.stderr


def test_a_table_cannot_be_written_to_a_file(settings, tmp_path: Path) -> None:
    result = metrics(settings, "--out", str(tmp_path / "x.txt"), expect=2)
    assert "--out" in result.output
