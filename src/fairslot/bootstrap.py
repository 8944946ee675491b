"""Wires the platform's real (or test) dependencies together in one place."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from fairslot.allocation.screening_ports import CaseDesk
from fairslot.alternatives.screened import CallerKey, ScreenedMemo
from fairslot.alternatives.service import AlternativesMemo
from fairslot.audit.recorder import RecordBuffer
from fairslot.availability.recall import AvailabilityMemo
from fairslot.cases.draw_screening import DrawScreeningDesk
from fairslot.channels.models import Channel
from fairslot.clock import AcceleratedClock, Clock, SystemClock
from fairslot.config import Settings, make_protector
from fairslot.crypto import Protector
from fairslot.db.engine import make_engine, make_session_factory
from fairslot.gate.ratelimit import RateLimiter, make_rate_limiter
from fairslot.memo import ALTERNATIVES_FOR, AVAILABILITY_FOR, CHANNEL_FOR, SOLD_OUT_FOR, Memo
from fairslot.payments import providers as payment_providers
from fairslot.signin import sms


@dataclass
class HotMemos:
    """This process's short-lived answers for the release-burst hot path
    (``fairslot/memo.py`` says what they may and may not do).

    ``sold_out``: (session, channel) pairs a hold by session found full.
    ``availability``: the answer per (department, date_from, date_to, title, channel).
    ``alternatives``: the session-level part of a refusal's alternatives.
    ``channels``: the channel of an API key hash (``api/deps.py::current_channel``).
    ``screened``: the callers the gate let hold lately, with their patients' facts, by
    (channel, account, patient), for ``settings.sold_out_lane_seconds``
    (``api/sold_out_lane.py``); each is forgotten when this process books or cancels for
    its patient.
    """

    sold_out: Memo[tuple[int, int], bool] = field(default_factory=lambda: Memo(ttl=SOLD_OUT_FOR))
    availability: AvailabilityMemo = field(default_factory=lambda: Memo(ttl=AVAILABILITY_FOR))
    alternatives: AlternativesMemo = field(default_factory=lambda: Memo(ttl=ALTERNATIVES_FOR))
    channels: Memo[str, Channel] = field(default_factory=lambda: Memo(ttl=CHANNEL_FOR))
    screened: ScreenedMemo = field(default_factory=lambda: Memo(ttl=timedelta(0)))
    # How many times this process changed slots (``changed``).
    generation: int = 0

    def changed(self, *, caller: CallerKey | None = None) -> None:
        """This process changed slots (a hold, a cancellation): forget what it recalls,
        so that its next answers show the change (other processes see it within one
        lifetime); and the ``caller`` it changed them for, whose patient's days changed."""
        self.generation += 1  # a read begun before this must not recall what it read
        self.sold_out.clear()
        self.availability.clear()
        self.alternatives.clear()
        if caller is not None:
            self.screened.forget(caller)


@dataclass
class Platform:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    clock: Clock
    rng: random.Random
    protector: Protector
    limiter: RateLimiter
    memos: HotMemos = field(default_factory=HotMemos)
    extras: dict[str, object] = field(default_factory=dict)
    # The review cases as the pre-draw screening sees them: handed down to the draw run,
    # since cases sit above allocation (``allocation/screening_ports.py``).
    screening_desk: CaseDesk = field(default_factory=DrawScreeningDesk)
    # Request records waiting for their batched INSERT (None: written with each request).
    records: RecordBuffer | None = None


def bootstrap(
    settings: Settings,
    *,
    clock: Clock | None = None,
    rng: random.Random | None = None,
    engine: Engine | None = None,
) -> Platform:
    settings.check_production()  # keys, and no protection switched off
    sms.check_sender(settings)  # no sign-in codes in the server log in production
    payment_providers.check_provider(settings)  # no sandbox cashier in production
    engine = engine or make_engine(settings)
    sessions = make_session_factory(engine)
    return Platform(
        settings=settings,
        engine=engine,
        sessions=sessions,
        clock=clock or clock_from_settings(settings),
        # The cooling delay must not be predictable by a scalper: OS randomness by default.
        rng=rng or random.SystemRandom(),
        protector=make_protector(settings),
        limiter=make_rate_limiter(
            limits=settings.rate_limits,
            redis_url=settings.redis_url,
            enabled=settings.rate_limit_enabled,
            namespace=settings.redis_namespace,
        ),
        records=record_buffer(settings, engine),
        memos=HotMemos(
            screened=Memo(ttl=timedelta(seconds=settings.sold_out_lane_seconds)),
        ),
    )


def record_buffer(settings: Settings, engine: Engine) -> RecordBuffer | None:
    """The process's batched request records (``audit/recorder.py``), unless switched off."""
    if settings.request_record_flush_ms <= 0:
        return None
    return RecordBuffer(
        engine,
        flush_ms=settings.request_record_flush_ms,
        max_rows=settings.request_record_flush_rows,
        browse_window=timedelta(minutes=settings.velocity_browse_window_minutes),
    )


def clock_from_settings(settings: Settings) -> Clock:
    """The wall clock, or the simulator's accelerated clock when the settings ask for it.

    A production platform refuses to start on simulated time: holds, cooling delays and
    release gates would all follow a clock nobody lives by.
    """
    if settings.sim_clock_start is None:
        return SystemClock()
    if settings.is_production:
        raise RuntimeError(
            "FAIRSLOT_SIM_CLOCK_START is for the simulator only; unset it in production"
        )
    return AcceleratedClock(
        start=settings.sim_clock_start,
        speed=settings.sim_clock_speed,
        anchor=settings.sim_clock_anchor,
        changes=settings.sim_clock_changes,
    )
