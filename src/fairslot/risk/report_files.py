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
from openpyxl.styles import Font  # type: ignore[import-untyped]
from openpyxl.utils import get_column_letter  # type: ignore[import-untyped]

from fairslot.risk.report import DailyReport
from fairslot.risk.report_shapes import Cell, sections

CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_DATETIME_TEXT = "%Y-%m-%d %H:%M:%S"
_DATETIME_EXCEL = "yyyy-mm-dd hh:mm:ss"
_MIN_WIDTH, _MAX_WIDTH = 8, 60


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
    as their text; times are spreadsheet datetimes in the report's zone."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    workbook.properties.creator = "fairslot"
    workbook.properties.title = f"fairslot risk report {report.day.isoformat()}"
    bold = Font(bold=True)
    for section in sections(report):
        sheet = workbook.create_sheet(title=section.title)
        sheet.append(list(section.headers))
        for cell in sheet[1]:
            cell.font = bold
        for row in section.rows:
            sheet.append([_excel_value(value) for value in row])
        for cells in sheet.iter_rows(min_row=2):
            for cell in cells:
                _as_plain(cell)
        sheet.freeze_panes = "A2"
        if section.rows and section.name != "summary":
            sheet.auto_filter.ref = sheet.dimensions
        _fit_columns(sheet, section.headers, section.rows)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _excel_value(value: Cell) -> str | int | float | datetime | None:
    # A spreadsheet datetime has no zone: it is written as the local time the report
    # names in its summary.
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    return value


def _as_plain(cell: Any) -> None:
    """Keep text text: openpyxl turns a string starting with ``=`` into a formula (``f``)
    and ``#N/A`` and the like into an error value (``e``)."""
    if cell.data_type in ("f", "e"):
        cell.data_type = "s"
    if isinstance(cell.value, datetime):
        cell.number_format = _DATETIME_EXCEL


# openpyxl ships no type information: its objects are typed ``Any`` here.
def _fit_columns(sheet: Any, headers: Sequence[str], rows: Sequence[Sequence[Cell]]) -> None:
    for index, header in enumerate(headers):
        width = max([_display_width(header), *(_display_width(_text(row[index])) for row in rows)])
        letter = get_column_letter(index + 1)
        sheet.column_dimensions[letter].width = min(max(width + 2, _MIN_WIDTH), _MAX_WIDTH)


def _display_width(text: str) -> int:
    # Chinese characters take two columns.
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
