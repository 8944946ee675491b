"""``fairslot privacy``: the request-context retention, run now (the worker runs it daily).

The edge owns the transactions: one to read what open cases hold, then one per batch of
records, so a purge runs beside the server and can be stopped and started again.
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from zoneinfo import ZoneInfo

import typer

from fairslot.audit import retention
from fairslot.bootstrap import Platform
from fairslot.cases.retention import held_by_open_cases
from fairslot.cli.common import DAILY_RETRY_AFTER, console, make_platform, worker_log
from fairslot.db.engine import unit_of_work
from fairslot.payments import preauth_orders

app = typer.Typer(help="Personal data: the request-context retention.")
log = logging.getLogger("fairslot.worker")

_LAST_DAY = "request context retention day"
_RETRY_AT = "request context retention retry at"


def purge(platform: Platform) -> retention.RetentionReport:
    """Reduce every request record older than the retention period, except those an open
    case still shows (``audit/retention.py``)."""
    now = platform.clock.now()
    before = retention.cutoff(now=now, days=platform.settings.request_context_retention_days)
    with unit_of_work(platform.sessions) as db:
        held, cases = held_by_open_cases(db, protector=platform.protector)
        # a pre-authorisation never called back keeps its request's context only as long
        preauth_orders.forget_stale_context(db, before=before)
    reduced = 0
    while True:
        with unit_of_work(platform.sessions) as db:
            n = retention.reduce_batch(db, before=before, held=held)
        if n == 0:
            return retention.RetentionReport(cutoff=before, reduced=reduced, held_cases=cases)
        reduced += n


def daily_purge_once(platform: Platform) -> retention.RetentionReport | None:
    """The worker's daily run: once per local day (again after a restart, harmlessly: a
    reduced record is never picked again). A failure is logged and retried
    ``DAILY_RETRY_AFTER`` later; it never stops the sweep around it."""
    zone = ZoneInfo(platform.settings.default_timezone)
    today = platform.clock.now().astimezone(zone).date()
    last, retry_at = platform.extras.get(_LAST_DAY), platform.extras.get(_RETRY_AT)
    if (isinstance(last, date) and last == today) or (
        isinstance(retry_at, datetime) and platform.clock.now() < retry_at
    ):
        return None
    try:
        report = purge(platform)
    except Exception:
        platform.extras[_RETRY_AT] = platform.clock.now() + DAILY_RETRY_AFTER
        worker_log.exception("request context retention failed; retrying in %s", DAILY_RETRY_AFTER)
        return None
    platform.extras[_LAST_DAY] = today
    if report.reduced:
        log.info(
            "request context retention: %d records reduced (before %s), %d open cases held",
            report.reduced,
            report.cutoff.isoformat(),
            report.held_cases,
        )
    return report


@app.command("purge")
def purge_command() -> None:
    """Clear the request context (device, address, Wi-Fi, user agent, payment) of request
    records older than FAIRSLOT_REQUEST_CONTEXT_RETENTION_DAYS, except what an open case
    still shows. Safe to run while the server runs, and to run again."""
    platform = make_platform()
    report = purge(platform)
    console.print(
        f"request records reduced: {report.reduced} (made before {report.cutoff.isoformat()}); "
        f"open cases whose records were kept: {report.held_cases}"
    )
