from __future__ import annotations

import csv
import enum
import io
import json
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import typer
from rich.markup import escape
from rich.table import Table
from rich.text import Text
from sqlalchemy.orm import Session

from fairslot.bootstrap import Platform
from fairslot.cli.common import command_transaction, console, err_console, make_platform
from fairslot.context import RequestContext
from fairslot.hospitals import repository as hospitals_repo
from fairslot.schedules import formats
from fairslot.schedules import service as schedules
from fairslot.schedules.errors import ScheduleInvalid
from fairslot.schedules.formats import ScheduleDocument
from fairslot.schedules.schemas import ImportReport, Outcome
from fairslot.schedules.views import local_today

app = typer.Typer(
    help="Hospital schedules: the documents a hospital pushes (docs/schedule-format.md)."
)


class ScheduleFormat(enum.StrEnum):
    JSON = "json"
    CSV = "csv"


MAX_LISTED_CHANGES = 20
_EXTENSIONS = {".json": ScheduleFormat.JSON, ".csv": ScheduleFormat.CSV}


@app.command("import")
def import_(
    file: Path = typer.Argument(
        ..., exists=True, dir_okay=False, readable=True, help="a JSON or CSV schedule"
    ),
    fmt: ScheduleFormat | None = typer.Option(
        None, "--format", help="json or csv; by default from the file's extension"
    ),
    encoding: str = typer.Option(
        "utf-8-sig", "--encoding", help="text encoding of a CSV file (e.g. gb18030)"
    ),
) -> None:
    """Import a hospital's schedule file in one transaction, as the hospital API would.

    The hospital is the one the file names. An invalid file imports nothing and exits 1
    with every problem listed; sessions the platform rejects (an unknown doctor, a change
    that would hurt a booking) are listed with their reason while the rest is imported.
    """
    kind = fmt or _EXTENSIONS.get(file.suffix.lower())
    if kind is None:
        raise typer.BadParameter(
            f"cannot tell the format of {file.name}; give --format json or --format csv",
            param_hint="--format",
        )
    raw = file.read_bytes()
    platform = make_platform()
    now = platform.clock.now()
    with command_transaction(platform) as db:
        try:
            doc = _parse(db, platform, raw=raw, kind=kind, encoding=encoding, now=now)
            settings = platform.settings
            report = schedules.import_schedule(
                db,
                doc=doc,
                now=now,
                ctx=RequestContext(actor="cli"),
                rng=platform.rng,
                late_release_minutes=(
                    settings.late_release_min_minutes,
                    settings.late_release_max_minutes,
                ),
            )
        except ScheduleInvalid as exc:
            _print_problems(exc, file=file)
            raise typer.Exit(1) from exc  # rolls the transaction back
    _print_report(report)


def _parse(
    db: Session,
    platform: Platform,
    *,
    raw: bytes,
    kind: ScheduleFormat,
    encoding: str,
    now: datetime,
) -> ScheduleDocument:
    # Dates are checked against the hospital's own calendar day, so find the hospital
    # first; an unknown one is reported by the import.
    code = _hospital_code(raw, kind=kind, encoding=encoding)
    hospital = hospitals_repo.by_code(db, code) if code else None
    today = (
        local_today(hospital, now)
        if hospital is not None
        else now.astimezone(ZoneInfo(platform.settings.default_timezone)).date()
    )
    if kind is ScheduleFormat.JSON:
        return formats.parse_json(raw, today=today)
    try:
        text = raw.decode(encoding)
    except (UnicodeDecodeError, LookupError) as exc:
        raise ScheduleInvalid(
            [{"location": "document", "message": f"cannot be read as {encoding} text: {exc}"}]
        ) from None
    return formats.parse_csv(text, today=today)


def _hospital_code(raw: bytes, *, kind: ScheduleFormat, encoding: str) -> str | None:
    """The hospital a file names, read loosely; the parser then reads the file properly."""
    try:
        if kind is ScheduleFormat.JSON:
            data = json.loads(raw)
            code = data.get("hospital") if isinstance(data, dict) else None
            return code if isinstance(code, str) else None
        reader = csv.reader(io.StringIO(raw.decode(encoding), newline=""))
        header = [cell.strip().lstrip("\ufeff").lower() for cell in next(reader, [])]
        if "hospital" not in header:
            return None
        column = header.index("hospital")
        for cells in reader:
            if len(cells) > column and cells[column].strip():
                return cells[column].strip()
    except (ValueError, RecursionError, LookupError, csv.Error):
        return None
    return None


def _print_problems(exc: ScheduleInvalid, *, file: Path) -> None:
    count = len(exc.problems)
    problems = "1 problem" if count == 1 else f"{count} problems"
    err_console.print(
        f"[bold red]{exc.code}[/]: {escape(file.name)} has {problems}; nothing was imported."
    )
    table = Table("where", "session", "problem")
    for problem in exc.problems:
        table.add_row(
            *(Text(str(problem.get(key, ""))) for key in ("location", "session_id", "message"))
        )
    err_console.print(table)


def _print_report(report: ImportReport) -> None:
    summary = Table(title=f"schedule import for hospital {escape(report.hospital)}")
    for column in ("", "created", "updated", "unchanged", "withdrawn", "rejected"):
        summary.add_column(column, justify="right" if column else "left")
    summary.add_row(
        "sessions",
        *(str(n) for n in (report.created, report.updated, report.unchanged)),
        str(report.withdrawn),
        f"[red]{report.rejected}[/]" if report.rejected else "0",
    )
    for name, counts in (("departments", report.departments), ("doctors", report.doctors)):
        summary.add_row(
            name, str(counts.created), str(counts.updated), str(counts.unchanged), "", ""
        )
    console.print(summary)
    # Every session with a reason (rejected, or changed less than asked) is listed; of the
    # plainly created, updated or withdrawn ones only the first few, so a week's push of
    # hundreds of sessions stays readable.
    explained = [s for s in report.sessions if s.reason]
    changed = [s for s in report.sessions if not s.reason and s.outcome != Outcome.UNCHANGED]
    shown = explained + changed[:MAX_LISTED_CHANGES]
    if not shown:
        return
    details = Table("session", "outcome", "capacity", "reason", title="sessions")
    for s in shown:
        outcome = Text(s.outcome.value, style="red" if s.outcome == Outcome.REJECTED else "")
        capacity = "" if s.capacity is None else str(s.capacity)
        details.add_row(Text(s.session_id), outcome, capacity, Text(s.reason or ""))
    console.print(details)
    if len(changed) > MAX_LISTED_CHANGES:
        console.print(f"... and {len(changed) - MAX_LISTED_CHANGES} more sessions changed")
