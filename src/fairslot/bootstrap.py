"""Wires the platform's real (or test) dependencies together in one place."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from fairslot.clock import Clock, SystemClock
from fairslot.config import Settings
from fairslot.crypto import Protector
from fairslot.db.engine import make_engine, make_session_factory
from fairslot.gate.ratelimit import RateLimiter, make_rate_limiter


@dataclass
class Platform:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    clock: Clock
    rng: random.Random
    protector: Protector
    limiter: RateLimiter
    extras: dict[str, object] = field(default_factory=dict)


def bootstrap(
    settings: Settings,
    *,
    clock: Clock | None = None,
    rng: random.Random | None = None,
    engine: Engine | None = None,
) -> Platform:
    settings.check_production()
    engine = engine or make_engine(settings)
    return Platform(
        settings=settings,
        engine=engine,
        sessions=make_session_factory(engine),
        clock=clock or SystemClock(),
        # The cooling delay must not be predictable by a scalper: OS randomness by default.
        rng=rng or random.SystemRandom(),
        protector=Protector(
            data_key=settings.effective_data_key(), hash_key=settings.effective_hash_key()
        ),
        limiter=make_rate_limiter(
            limits=settings.rate_limits,
            redis_url=settings.redis_url,
            enabled=settings.rate_limit_enabled,
            namespace=settings.redis_namespace,
        ),
    )
