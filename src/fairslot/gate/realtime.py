"""The velocity half of the real-time gate: measure the signals of one acting request,
decide (``gate/velocity.py``), record the decision on the request's record, and refuse —
or, for suspected bots with ``suspect_action=slow``, answer slowly — on a block.

Called by ``api/deps.py::gate`` after the blacklist check, on every account
registration, patient binding, hold, confirmation, intent and waitlist join.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from fairslot.audit.recorder import BROWSE_ACTIONS
from fairslot.audit.service import PendingRecord
from fairslot.blacklist.gate import refusal
from fairslot.bookings.models import Booking
from fairslot.config import Settings
from fairslot.gate import repository as repo
from fairslot.gate.velocity import (
    FAST_REASONS,
    Decision,
    Signals,
    Thresholds,
    Verdict,
    decide,
    fast_reasons,
    slowed,
)

# The actions through which an account takes a slot or a chance at one.
BOOKING_ACTS = frozenset({"hold", "intent", "waitlist_join"})
# What a person looks at before holding a slot.
BROWSE_ACTS = BROWSE_ACTIONS  # what the record buffer writes at once for a first browse
# However it is configured, a suspect never waits longer than this (see SlowLane).
MAX_SUSPECT_DELAY_SECONDS = 10.0


def thresholds(settings: Settings) -> Thresholds:
    return Thresholds(
        binding_review_at=settings.velocity_binding_review_at,
        binding_block_at=settings.velocity_binding_block_at,
        device_review_at=settings.velocity_device_review_at,
        device_block_at=settings.velocity_device_block_at,
        min_confirm_seconds=settings.velocity_min_confirm_seconds,
        min_first_hold_seconds=settings.velocity_min_first_hold_seconds,
        repeat_block_at=settings.velocity_repeat_block_at,
    )


class SlowLane:
    """Where ``suspect_action=slow`` makes a suspected bot wait before it is let through.

    The trade-off: endpoints are synchronous, so a waiting request keeps one of the
    server's worker threads (anyio lends sync endpoints at most 40 by default) for the
    whole delay. Unbounded, a crowd of slowed bots would take every thread and stall
    genuine patients — the opposite of the point. So the delay is capped
    (``MAX_SUSPECT_DELAY_SECONDS``), at most ``max_waiting`` requests wait at once per
    process (beyond that a block is refused as in ``refuse`` mode), and the request's
    transaction is ended before waiting, so no database connection (nor SQLite's write
    lock) is held while it sleeps.
    """

    def __init__(self, *, max_waiting: int, sleep: Callable[[float], None] = time.sleep) -> None:
        self._places = threading.BoundedSemaphore(max_waiting)
        self._sleep = sleep  # injectable: tests see the delay without waiting it out

    def wait(self, db: Session, *, seconds: float) -> bool:
        """Wait ``seconds`` (capped); False, at once, when the lane is full."""
        if not self._places.acquire(blocking=False):
            return False
        try:
            db.commit()  # the gate has only read so far: nothing is lost
            self._sleep(max(0.0, min(seconds, MAX_SUSPECT_DELAY_SECONDS)))
        finally:
            self._places.release()
        return True


def slow_lane(extras: dict[str, object], *, max_waiting: int) -> SlowLane:
    """The platform's one slow lane (kept in ``Platform.extras``)."""
    lane = extras.get("gate.slow_lane")
    if not isinstance(lane, SlowLane):
        lane = extras.setdefault("gate.slow_lane", SlowLane(max_waiting=max_waiting))
    assert isinstance(lane, SlowLane)
    return lane


def screen(
    db: Session,
    *,
    record: PendingRecord,
    settings: Settings,
    now: datetime,
    patient_id: int | None,
    lane: SlowLane,
    booking: Booking | None = None,
    reads: repo.SignalReads | None = None,
) -> Verdict:
    """Decide on the request, write the decision on its record, and enforce a block.
    ``booking``: a confirmation's own booking, already read by the caller. ``reads``: the
    signals the caller already read with :func:`asks` (``api/deps.py::gate`` reads them
    with the patient's keys and the blacklist in one statement); None: read them here."""
    if not settings.velocity_enabled:
        verdict = Verdict(Decision.ALLOW)
    elif reads is not None:
        verdict = verdict_of(
            db, reads=reads, record=record, settings=settings, now=now,
            patient_id=patient_id, booking=booking,
        )  # fmt: skip
    else:
        verdict = assess(
            db, record=record, settings=settings, now=now, patient_id=patient_id, booking=booking
        )
    if (
        verdict.decision is Decision.BLOCK
        and settings.suspect_action == "slow"
        and lane.wait(db, seconds=settings.suspect_delay_seconds)
    ):
        verdict = slowed(verdict)
    record.decision, record.reasons = verdict.decision.value, verdict.codes
    if verdict.decision is Decision.BLOCK:
        raise refusal()
    return verdict


Asks = repo.SignalAsks


def asks(
    db: Session, *, record: PendingRecord, settings: Settings, now: datetime,
    patient_id: int | None,
) -> Asks:  # fmt: skip
    """What to read for the signals that apply to this action (``patient_id``: the
    request's patient, left out of the device's count of other patients)."""
    t = thresholds(settings)
    action, account_id = record.action, record.account_id
    device = _counted_device(db, record=record, settings=settings)
    return Asks(
        bindings=repo.BindingsAsk(
            account_id=account_id,
            since=now - timedelta(minutes=settings.velocity_binding_window_minutes),
        )
        if account_id is not None
        else None,
        device=repo.DeviceAsk(
            device_key=device,
            since=now - timedelta(days=settings.velocity_device_window_days),
            enough=t.device_block_at,
            patient_id=patient_id,
        )
        if device
        else None,
        first_act=repo.FirstActAsk(
            account_id=account_id,
            young_after=now - timedelta(seconds=t.min_first_hold_seconds),
            actions=BOOKING_ACTS,
        )
        if action in BOOKING_ACTS and account_id is not None
        else None,
        browse=repo.BrowseAsk(
            device_key=device,
            since=now - timedelta(minutes=settings.velocity_browse_window_minutes),
            actions=BROWSE_ACTS,
        )
        if action == "hold" and device and settings.velocity_browse_window_minutes > 0
        else None,
    )


def _counted_device(db: Session, *, record: PendingRecord, settings: Settings) -> str | None:
    """The device whose signals count: none at the window or the call centre, where one
    terminal serves many people by design."""
    kind = repo.channel_kind(db, record.ctx.channel_id)
    return None if kind in settings.velocity_shared_device_kinds else record.ctx.device_key


def assess(
    db: Session,
    *,
    record: PendingRecord,
    settings: Settings,
    now: datetime,
    patient_id: int | None,
    booking: Booking | None = None,
) -> Verdict:
    """Measure the signals that apply to this action and decide: one round trip of
    index-backed reads (``repo.signal_reads``); the fast-request history is read, in a
    second one, only when this request is itself fast."""
    asked = asks(db, record=record, settings=settings, now=now, patient_id=patient_id)
    reads = repo.signal_reads(db, asked)
    return verdict_of(
        db, reads=reads, record=record, settings=settings, now=now, patient_id=patient_id,
        booking=booking,
    )  # fmt: skip


def verdict_of(
    db: Session,
    *,
    reads: repo.SignalReads,
    record: PendingRecord,
    settings: Settings,
    now: datetime,
    patient_id: int | None,
    booking: Booking | None = None,
) -> Verdict:
    """Decide on the signals read for :func:`asks`; the fast-request history is read, in
    a round trip of its own, only when this request is itself fast."""
    t = thresholds(settings)
    action, account_id = record.action, record.account_id
    # Pace from the request's arrival at the edge, not from when a worker thread got to
    # it: under load the wait for a thread is the server's, not the client's.
    arrived = min(record.ctx.arrived_at or now, now)
    if reads.acted_before is False:
        # A young account's first booking act: its next one asks whether it acted
        # before, so this record must not wait for the batched write (audit/recorder.py).
        record.read_soon = True
    signals = Signals()
    if reads.bindings is not None:
        signals = replace(signals, bindings=reads.bindings + (action == "bind_patient"))
    if action == "confirm" and booking is not None:
        seconds = max(0.0, (arrived - booking.held_at).total_seconds())
        signals = replace(signals, seconds_since_hold=seconds)
        if record.ctx.client_step_ms is not None:
            signals = replace(signals, client_step_seconds=record.ctx.client_step_ms / 1000)
    if reads.other_device_patients is not None:
        # The request's own patient is one more; so is a patient not yet known to the
        # platform (a first binding).
        own = 1 if patient_id is not None or action == "bind_patient" else 0
        signals = replace(signals, device_patients=reads.other_device_patients + own)
    if reads.account_created_at is not None:
        seconds = max(0.0, (arrived - reads.account_created_at).total_seconds())
        if seconds < t.min_first_hold_seconds and reads.acted_before is False:
            signals = replace(signals, seconds_since_registration=seconds)
    if reads.browsed is not None:
        signals = replace(signals, browsed=reads.browsed)

    if fast_reasons(signals, t):
        earlier = repo.fast_requests_since(
            db,
            account_id=account_id,
            device_key=_counted_device(db, record=record, settings=settings),
            since=now - timedelta(minutes=settings.velocity_repeat_window_minutes),
            reasons=[r.value for r in FAST_REASONS],
        )
        signals = replace(signals, earlier_fast=earlier)
    return decide(signals, t)
