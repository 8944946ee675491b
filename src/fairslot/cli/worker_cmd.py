"""``fairslot worker``: housekeeping the clock makes due, run without anyone awake.

It runs due release draws (a draw-mode session is on sale only after its draw), expires
lapsed holds (their slots then cool) and writes the re-releases of slots whose cooling is
over. The release gate never waits for the sweeps; they keep the ledger complete and let
lapsed holds return to sale.
"""

from __future__ import annotations

import logging
import threading
import time

import typer

from fairslot.allocation.worker import DrawReport, run_due_draws
from fairslot.bookings.policy import booking_policy
from fairslot.bootstrap import Platform
from fairslot.cli import calls_cmd, privacy_cmd, risk_cmd
from fairslot.cli.common import console, make_platform
from fairslot.db.engine import unit_of_work
from fairslot.observability import record as observe
from fairslot.waitlist import sweeps

log = logging.getLogger("fairslot.worker")


def draws_once(platform: Platform) -> DrawReport:
    """Open draws whose window began and run those due (one transaction)."""
    with unit_of_work(platform.sessions) as db:
        return run_due_draws(
            db,
            now=platform.clock.now(),
            policy=booking_policy(platform.settings),
            rng=platform.rng,
            protector=platform.protector,
            desk=platform.screening_desk,
        )


def sweep_once(platform: Platform) -> sweeps.SweepReport:
    # Draws first: a draw that fell due while the worker was down runs now, and its
    # sessions go on open sale only after it.
    draws = draws_once(platform)
    observe.draws(opened=draws.opened, run=draws.drawn)
    if draws.opened or draws.drawn:
        log.info("draws opened: %d, draws run: %d", draws.opened, draws.drawn)
    risk_cmd.daily_batch_once(platform)  # yesterday's anomaly batch, once it is due
    calls_cmd.daily_sample_once(platform)  # then yesterday's follow-up call sample, once
    privacy_cmd.daily_purge_once(platform)  # request context past its retention, daily
    with unit_of_work(platform.sessions) as db:
        return sweeps.sweep(
            db,
            now=platform.clock.now(),
            policy=booking_policy(platform.settings),
            rng=platform.rng,
            protector=platform.protector,
        )


def run_sweeper(platform: Platform, *, every: float, stop: threading.Event) -> None:
    """Sweep every ``every`` seconds until ``stop`` is set; a failed round is logged and
    retried next time (every step is compare-and-set, so a retry is safe)."""
    while not stop.is_set():
        started = time.perf_counter()
        try:
            report = sweep_once(platform)
        except Exception:
            observe.sweep_failed(seconds=time.perf_counter() - started)
            log.exception("sweep failed; retrying in %.0f s", every)
        else:
            observe.sweep(
                seconds=time.perf_counter() - started,
                finished_at=time.time(),  # wall time: Prometheus compares it with time()
                items={
                    "holds_expired": report.holds_expired,
                    "slots_re_released": report.slots_re_released,
                    "waitlist_booked": report.waitlist_booked,
                    "waitlist_closed": report.waitlist_closed,
                },
            )
        stop.wait(every)


def start_background_sweeper(platform: Platform, *, every: float) -> threading.Event:
    stop = threading.Event()
    thread = threading.Thread(
        target=run_sweeper,
        args=(platform,),
        kwargs={"every": every, "stop": stop},
        name="fairslot-sweeper",
        daemon=True,
    )
    thread.start()
    return stop


def worker(
    every: float = typer.Option(15.0, "--every", help="seconds between sweeps"),
    once: bool = typer.Option(False, "--once", help="sweep once and exit"),
) -> None:
    """Run due release draws, expire lapsed holds and re-release cooled slots."""
    platform = make_platform()
    if once:
        report = sweep_once(platform)
        console.print(
            f"holds expired: {report.holds_expired}, slots re-released: {report.slots_re_released}"
        )
        return
    console.print(f"fairslot worker: sweeping every {every:.0f} s (Ctrl-C to stop)")
    try:
        run_sweeper(platform, every=every, stop=threading.Event())
    except KeyboardInterrupt:
        console.print("stopped")
