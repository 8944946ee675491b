"""What every command shares: building the platform from settings, and the console."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import typer
from rich.console import Console
from sqlalchemy.orm import Session

from fairslot.bootstrap import Platform, bootstrap
from fairslot.config import load_settings
from fairslot.db.engine import unit_of_work
from fairslot.errors import DomainError

console = Console()
err_console = Console(stderr=True)


def make_platform(database_url: str | None = None) -> Platform:
    settings = load_settings(database_url=database_url) if database_url else load_settings()
    return bootstrap(settings)


@contextmanager
def command_transaction(platform: Platform) -> Iterator[Session]:
    """One command, one transaction; a refusal prints its code and message and exits 1."""
    try:
        with unit_of_work(platform.sessions) as db:
            yield db
    except DomainError as exc:
        err_console.print(f"[bold red]{exc.code}[/]: {exc.detail}")
        raise typer.Exit(1) from exc


def local_day(text: str | None, *, platform: Platform, days_back: int = 0) -> date:
    """A ``--date YYYY-MM-DD`` option, or (when omitted) today minus ``days_back`` in the
    hospitals' default zone."""
    if text is None:
        zone = ZoneInfo(platform.settings.default_timezone)
        return platform.clock.now().astimezone(zone).date() - timedelta(days=days_back)
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise typer.BadParameter(f"{text!r} is not a date: expected YYYY-MM-DD") from exc
