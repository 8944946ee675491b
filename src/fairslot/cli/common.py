"""What every command shares: building the platform from settings, and the console."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from typing import TypeVar
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
worker_log = logging.getLogger("fairslot.worker")

T = TypeVar("T")

# After a failed daily job, the worker tries it again this much later (not on every sweep).
DAILY_RETRY_AFTER = timedelta(minutes=10)


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


def daily_job_once(
    platform: Platform, *, name: str, job: Callable[[Session, datetime], T | None]
) -> T | None:
    """Run one of the worker's daily jobs (``cli/worker_cmd.py::sweep_once``) in its own
    transaction; ``job`` itself says whether its day is due (None when not).

    A failure is logged and retried ``DAILY_RETRY_AFTER`` later; it never stops the sweep
    around it (expiring holds and re-releasing slots must not wait for a report).
    """
    key = f"{name} retry at"
    now = platform.clock.now()
    retry_at = platform.extras.get(key)
    if isinstance(retry_at, datetime) and now < retry_at:
        return None
    try:
        with unit_of_work(platform.sessions) as db:
            result = job(db, now)
    except Exception:
        platform.extras[key] = now + DAILY_RETRY_AFTER
        worker_log.exception("%s failed; trying again in %s", name, DAILY_RETRY_AFTER)
        return None
    platform.extras.pop(key, None)
    return result
