"""``fairslot metrics``: the quality metrics of a period as a table, CSV or JSON, overall
and per hospital and per channel.

Run by IT on the server (the same figures the staff API serves; the API audits who reads
them, the server's own shell is trusted like the other ``fairslot`` commands)."""

from __future__ import annotations

import csv
import enum
import io
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from fairslot.cli.common import command_transaction, console, err_console, make_platform
from fairslot.metrics import service as metrics
from fairslot.metrics.schemas import QualityFigures, QualityReport


class MetricsFormat(enum.StrEnum):
    TABLE = "table"
    CSV = "csv"
    JSON = "json"


def metrics_command(
    date_from: datetime | None = typer.Option(
        None, "--from", formats=["%Y-%m-%d"], help="first local date; default: --to minus 29 days"
    ),
    date_to: datetime | None = typer.Option(
        None, "--to", formats=["%Y-%m-%d"], help="last local date; default: yesterday"
    ),
    hospital: str | None = typer.Option(None, "--hospital", help="one hospital, by code"),
    channel: str | None = typer.Option(None, "--channel", help="one channel, by code"),
    format: MetricsFormat = typer.Option(
        MetricsFormat.TABLE, "--format", help="table, csv or json"
    ),
    out: Path | None = typer.Option(None, "--out", help="write csv or json to this file"),
) -> None:
    """Booking success, time to book, active accounts and retention, no-shows and scarce
    slots taken by blacklisted identities, for a period of local dates."""
    if format is MetricsFormat.TABLE and out is not None:
        raise typer.BadParameter("a table is printed; use --format csv or json", param_hint="--out")
    platform = make_platform()
    now, tz = platform.clock.now(), platform.settings.default_timezone
    first, last = metrics.period_or_default(
        now=now,
        tz=tz,
        date_from=date_from.date() if date_from else None,
        date_to=date_to.date() if date_to else None,
    )
    with command_transaction(platform) as db:
        hospital_id, channel_id = metrics.scope_ids(
            db, hospital_code=hospital, channel_code=channel
        )
        report = metrics.quality(
            db,
            date_from=first,
            date_to=last,
            tz=tz,
            now=now,
            protector=platform.protector,
            hospital_id=hospital_id,
            channel_id=channel_id,
        )
    if format is MetricsFormat.TABLE:
        _print_table(report)
        return
    text = (
        to_csv(report) if format is MetricsFormat.CSV else report.model_dump_json(indent=2) + "\n"
    )
    if out is None:
        sys.stdout.write(text)
    else:
        # A byte-order mark on CSV, so a spreadsheet opens the names as UTF-8.
        encoding = "utf-8-sig" if format is MetricsFormat.CSV else "utf-8"
        out.write_text(text, encoding=encoding, newline="")
        err_console.print(f"wrote {out}")


def to_csv(report: QualityReport) -> str:
    """One row per scope (overall, each hospital, each channel), one column per figure."""
    fields = list(QualityFigures.model_fields)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["date_from", "date_to", "scope", "code", "name", *fields])
    scopes = [("overall", "", "", report.overall)] + [
        (row.kind, row.code, row.name, row.figures) for row in report.hospitals + report.channels
    ]
    for kind, code, name, figures in scopes:
        values = figures.model_dump()
        writer.writerow(
            [
                report.date_from,
                report.date_to,
                kind,
                code,
                name,
                *(_cell(values[f]) for f in fields),
            ]
        )
    return buffer.getvalue()


def _cell(value: object) -> object:
    return "" if value is None else value


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def _secs(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f} s"


def _of(rate: float | None, part: int, whole: int) -> str:
    return f"{_pct(rate)} ({part}/{whole})"


ROWS: list[tuple[str, Callable[[QualityFigures], str]]] = [
    ("booking success", lambda f: _of(f.success_rate, f.booked_attempts, f.attempts)),
    ("time to book, median", lambda f: _secs(f.time_to_book_median_s)),
    ("time to book, p90", lambda f: _secs(f.time_to_book_p90_s)),
    ("DAU, mean", lambda f: f"{f.dau_mean:.1f}"),
    ("DAU, last day", lambda f: str(f.dau_last_day)),
    ("MAU (30 days to the last day)", lambda f: str(f.mau)),
    ("DAU / MAU", lambda f: _pct(f.dau_mau)),
    (
        "active accounts that booked",
        lambda f: _of(f.booking_share, f.booking_accounts, f.active_accounts),
    ),
    (
        "7-day retention",
        lambda f: _of(f.retention_7d, f.retention_7d_retained, f.retention_7d_cohort),
    ),
    (
        "30-day retention",
        lambda f: _of(f.retention_30d, f.retention_30d_retained, f.retention_30d_cohort),
    ),
    ("bookings confirmed", lambda f: str(f.bookings)),
    ("no-show rate", lambda f: _of(f.no_show_rate, f.no_shows, f.no_shows + f.checked_in)),
    (
        "scarce slots to blacklisted identities",
        lambda f: _of(f.blacklisted_share, f.scarce_blacklisted, f.scarce_taken),
    ),
]


def _print_table(report: QualityReport) -> None:
    title = f"Quality metrics {report.date_from} – {report.date_to} ({report.timezone})"
    columns = [("overall", report.overall)] + [
        (f"{row.kind}\n{escape(row.code)}", row.figures)
        for row in report.hospitals + report.channels
    ]
    table = Table("figure", *(name for name, _ in columns), title=title, title_justify="left")
    for label, show in ROWS:
        table.add_row(label, *(show(figures) for _, figures in columns))
    console.print(table)
