"""``fairslot risk report`` as tables, CSV (stdout or a file) and xlsx, over the hand-built
day of ``factories/report_data.py``, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from click.testing import Result
from openpyxl import load_workbook
from typer.testing import CliRunner

from factories.report_data import (
    DAY,
    PAYMENT_LABEL,
    QUIET_DAY,
    RING_LABEL,
    SHEETS,
    ReportDay,
    hand_built_day,
)
from fairslot.cli import common
from fairslot.cli.main import app
from fairslot.risk.report import RULES


@pytest.fixture(autouse=True)
def wide_consoles(monkeypatch: pytest.MonkeyPatch) -> None:
    # Off a terminal Rich takes 80 columns and folds the words the tests look for.
    for shared in (common.console, common.err_console):
        monkeypatch.setattr(shared, "_width", 250)


@pytest.fixture
def day(db, platform) -> ReportDay:
    return hand_built_day(db, platform)


def report(settings, *args: str, expect: int = 0) -> Result:
    result = CliRunner().invoke(
        app, ["risk", "report", *args], env={"FAIRSLOT_DATABASE_URL": settings.database_url}
    )
    assert result.exit_code == expect, (result.output, result.exception)
    return result


def test_csv_goes_to_stdout_with_every_section_and_nothing_personal(
    settings, day: ReportDay
) -> None:
    out = report(settings, "--date", DAY.isoformat(), "--format", "csv").stdout
    rows = list(csv.reader(io.StringIO(out)))
    titles = [row[0] for i, row in enumerate(rows) if row and (i == 0 or not rows[i - 1])]
    assert titles == ["Summary", "Rule counts", "Alerts", "Cases", "Blacklist", "Calls"]
    assert ["ring", "1"] in rows and ["sex_mismatch", "0"] in rows
    assert all(secret not in out for secret in day.secrets)


def test_csv_and_xlsx_are_written_to_the_file_given(
    settings, day: ReportDay, tmp_path: Path
) -> None:
    csv_path, xlsx_path = tmp_path / "day.csv", tmp_path / "day.xlsx"
    report(settings, "--date", DAY.isoformat(), "--format", "csv", "--out", str(csv_path))
    report(settings, "--date", DAY.isoformat(), "--format", "xlsx", "--out", str(xlsx_path))

    text = csv_path.read_text(encoding="utf-8-sig")
    assert ["alerts", "5"] in list(csv.reader(io.StringIO(text)))
    workbook = load_workbook(xlsx_path)
    assert workbook.sheetnames == SHEETS
    counts = dict(workbook["Rule counts"].iter_rows(min_row=2, values_only=True))
    assert list(counts) == list(RULES)
    assert counts["same_payment_same_department"] == 1
    cells = [str(c) for s in workbook for row in s.iter_rows(values_only=True) for c in row]
    assert all(secret not in cell for cell in cells for secret in day.secrets)


def test_xlsx_without_a_file_is_a_usage_error(settings, day: ReportDay) -> None:
    result = report(settings, "--date", DAY.isoformat(), "--format", "xlsx", expect=2)
    assert "--out" in result.output


def test_the_table_format_prints_each_section_with_masked_labels(settings, day: ReportDay) -> None:
    out = report(settings, "--date", DAY.isoformat()).stdout
    for title in ("Summary", "Rule counts", "Alerts", "Cases", "Blacklist", "Calls"):
        assert title in out
    assert RING_LABEL in out and PAYMENT_LABEL in out
    assert "awaiting_call" in out  # case W at the close of the day
    assert all(secret not in out for secret in day.secrets)


def test_a_quiet_day_prints_every_rule_with_zero(settings, day: ReportDay) -> None:
    out = report(settings, "--date", QUIET_DAY.isoformat(), "--format", "csv").stdout
    rows = list(csv.reader(io.StringIO(out)))
    start = rows.index(["Rule counts"]) + 2
    assert rows[start : start + len(RULES)] == [[rule, "0"] for rule in RULES]


def test_a_date_without_a_run_exits_1_and_says_which_command_to_run(
    settings, day: ReportDay
) -> None:
    result = report(settings, "--date", "2026-11-22", "--format", "csv", expect=1)
    assert "report_not_found" in result.stderr
    assert "fairslot risk run --date 2026-11-22" in result.stderr
    assert result.stdout == ""


def test_a_malformed_date_is_a_usage_error(settings, day: ReportDay) -> None:
    assert "2026-11-31" in report(settings, "--date", "2026-11-31", expect=2).output
