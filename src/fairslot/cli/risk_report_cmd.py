"""``fairslot risk report``: the daily risk report as tables, CSV or an xlsx workbook.

Run by IT on the server (the same reader the staff API serves; the API audits who reads
it, the server's own shell is trusted like the other ``fairslot`` commands)."""

from __future__ import annotations

import enum
import sys
from datetime import datetime
from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from fairslot.cli.common import command_transaction, console, err_console, make_platform
from fairslot.risk import report_files
from fairslot.risk.report import DailyReport
from fairslot.risk.report_service import daily_report
from fairslot.risk.report_shapes import Cell, sections


class ReportFormat(enum.StrEnum):
    TABLE = "table"
    CSV = "csv"
    XLSX = "xlsx"


def report(
    date: datetime = typer.Option(
        ..., "--date", formats=["%Y-%m-%d"], help="local date of the risk run (YYYY-MM-DD)"
    ),
    format: ReportFormat = typer.Option(ReportFormat.TABLE, "--format", help="table, csv or xlsx"),
    out: Path | None = typer.Option(
        None, "--out", help="write to this file (csv: default stdout; xlsx: required)"
    ),
) -> None:
    """The daily risk report for a date: the run, alerts per rule, the alerts, cases
    opened, closed and still open, blacklist changes and follow-up calls."""
    if format is ReportFormat.XLSX and out is None:
        raise typer.BadParameter("an xlsx workbook needs --out FILE", param_hint="--out")
    platform = make_platform()
    with command_transaction(platform) as db:
        loaded = daily_report(db, day=date.date(), zone=platform.settings.default_timezone)
    if format is ReportFormat.TABLE:
        _print_tables(loaded)
    elif format is ReportFormat.CSV:
        text = report_files.to_csv(loaded)
        if out is None:
            sys.stdout.write(text)
        else:
            # A byte-order mark, so a spreadsheet opens the Chinese text as UTF-8.
            out.write_text(text, encoding="utf-8-sig", newline="")
            err_console.print(f"wrote {out}")
    else:
        assert out is not None
        out.write_bytes(report_files.to_xlsx(loaded))
        err_console.print(f"wrote {out}")


def _print_tables(loaded: DailyReport) -> None:
    for section in sections(loaded):
        table = Table(*section.headers, title=section.title, title_justify="left")
        for row in section.rows:
            table.add_row(*(_text(cell) for cell in row))
        if not section.rows:
            table.caption = "none"
        console.print(table)


def _text(cell: Cell) -> str:
    if cell is None:
        return ""
    if isinstance(cell, datetime):
        return cell.strftime("%Y-%m-%d %H:%M")
    # Labels and reasons are data, never Rich markup.
    return escape(str(cell))
