"""The daily risk report as files: CSV text and an xlsx workbook, from the report's
sections (``risk/report_shapes.py``). Used by the staff API and ``fairslot risk report``.

Both are opened by people in a spreadsheet, so a text cell that a spreadsheet would run as
a formula (``=``, ``+``, ``-``, ``@`` first) is written as plain text: a reason typed by a
member of staff must not become a formula on a colleague's machine.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from openpyxl import Workbook  # type: ignore[import-untyped]
from openpyxl.cell import WriteOnlyCell  # type: ignore[import-untyped]
from openpyxl.styles import Font  # type: ignore[import-untyped]
from openpyxl.utils import get_column_letter  # type: ignore[import-untyped]

from fairslot.risk.report import DailyReport
from fairslot.risk.report_shapes import Cell, sections

CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_DATETIME_TEXT = "%Y-%m-%d %H:%M:%S"
_MIN_WIDTH, _MAX_WIDTH = 8, 60
# Rows ordered by score or time are alike: the first thousand show how wide a column gets.
_WIDTH_SAMPLE = 1000


def filename(day: date, extension: str) -> str:
    return f"fairslot-risk-report-{day.isoformat()}.{extension}"


def _text(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime(_DATETIME_TEXT)
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return str(value)


def to_csv(report: DailyReport) -> str:
    """Six blocks, one per section: a title line, the header, the rows, a blank line.
    Times are local to the report's zone (named in the summary)."""
    out = io.StringIO()
    writer = csv.writer(out)
    for section in sections(report):
        writer.writerow([section.title])
        writer.writerow(section.headers)
        writer.writerows([_text(cell) for cell in row] for row in section.rows)
        writer.writerow([])
    return out.getvalue()


def to_xlsx(report: DailyReport) -> bytes:
    """One sheet per section, bold frozen headers, filters on the lists, columns as wide
    as their text; times are spreadsheet datetimes in the report's zone.

    Written in openpyxl's streaming (write-only) mode: a busy day's tens of thousands of
    rows are written once instead of being kept as cell objects until the save.
    """
    workbook = Workbook(write_only=True)
    workbook.properties.creator = "fairslot"
    workbook.properties.title = f"fairslot risk report {report.day.isoformat()}"
    bold = Font(bold=True)
    for section in sections(report):
        sheet = workbook.create_sheet(title=section.title)
        # Widths and panes go before the rows in the file: set them first.
        _fit_columns(sheet, section.headers, section.rows)
        sheet.freeze_panes = "A2"
        if section.rows and section.name != "summary":
            last = get_column_letter(len(section.headers))
            sheet.auto_filter.ref = f"A1:{last}{len(section.rows) + 1}"
        sheet.append([_cell(sheet, header, font=bold) for header in section.headers])
        for row in section.rows:
            sheet.append([_excel_value(sheet, value) for value in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _cell(sheet: Any, value: str, *, font: Any = None) -> Any:
    cell = WriteOnlyCell(sheet, value=value)
    # Keep text text: openpyxl reads a string starting with "=" as a formula ("f") and
    # "#N/A" and the like as an error value ("e").
    if cell.data_type in ("f", "e"):
        cell.data_type = "s"
    if font is not None:
        cell.font = font
    return cell


def _excel_value(sheet: Any, value: Cell) -> Any:
    if isinstance(value, datetime):
        # A spreadsheet datetime has no zone: the local time the summary's zone names.
        return value.replace(tzinfo=None)
    if isinstance(value, str) and value.startswith(("=", "#")):
        return _cell(sheet, value)
    return value


# openpyxl ships no type information: its objects are typed ``Any`` here.
def _fit_columns(sheet: Any, headers: Sequence[str], rows: Sequence[Sequence[Cell]]) -> None:
    sample = rows[:_WIDTH_SAMPLE]
    for index, header in enumerate(headers):
        width = max(
            [_display_width(header), *(_display_width(_text(row[index])) for row in sample)]
        )
        letter = get_column_letter(index + 1)
        sheet.column_dimensions[letter].width = min(max(width + 2, _MIN_WIDTH), _MAX_WIDTH)


def _display_width(text: str) -> int:
    if text.isascii():
        return len(text)
    # Chinese characters take two columns.
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
