"""Protected and baseline are settings of the same platform, and those settings load."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from limits import parse

from fairslot.bookings.policy import booking_policy
from fairslot.bookings.rules import draw_cooling
from fairslot.config import Settings, load_settings
from fairslot.sim.modes import Mode, platform_env, scale_rate_limits

START = datetime(2026, 11, 21, 15, 49, tzinfo=UTC)
ANCHOR = datetime(2030, 1, 1, tzinfo=UTC)
CHANGES = [(START + timedelta(minutes=40), 20.0), (START + timedelta(minutes=46), 200.0)]


def settings_for(mode: Mode, monkeypatch: pytest.MonkeyPatch) -> Settings:
    for name, value in platform_env(
        mode, clock_start=START, clock_anchor=ANCHOR, speed=200, changes=CHANGES
    ).items():
        monkeypatch.setenv(name, value)
    return load_settings()


def test_protected_keeps_every_protection_of_the_platform(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = settings_for(Mode.PROTECTED, monkeypatch)
    assert settings.gate_enabled and settings.waitlist_enabled and settings.rate_limit_enabled
    assert (settings.cooling_min_minutes, settings.cooling_max_minutes) == (10, 180)
    assert settings.sim_clock_start == START and settings.sim_clock_anchor == ANCHOR
    assert settings.sim_clock_changes == CHANGES
    # 100 a minute at the fastest speed: 100 per 0.3 real seconds, widened to one second
    assert settings.rate_limits == "333 per 1 second"


def test_protected_judges_a_clinic_without_release_history_scarce(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The simulator's clinics are new: a first-come expert clinic is batched from its
    # first release only if the platform judges unknown clinics scarce.
    monkeypatch.delenv("FAIRSLOT_SCARCE_WITHOUT_HISTORY", raising=False)
    assert booking_policy(settings_for(Mode.PROTECTED, monkeypatch)).scarce_without_history
    monkeypatch.delenv("FAIRSLOT_SCARCE_WITHOUT_HISTORY", raising=False)
    assert not booking_policy(settings_for(Mode.BASELINE, monkeypatch)).scarce_without_history


def test_baseline_turns_the_protections_off_with_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = settings_for(Mode.BASELINE, monkeypatch)
    assert not settings.gate_enabled
    assert not settings.waitlist_enabled
    assert not settings.rate_limit_enabled
    policy = booking_policy(settings)
    assert not policy.waitlist_enabled
    # instant re-release: the settings accept a cooling of zero and it draws zero
    assert (settings.cooling_min_minutes, settings.cooling_max_minutes) == (0, 0)
    assert draw_cooling(rng=random.Random(1), min_minutes=0, max_minutes=0) == timedelta(0)


@pytest.mark.parametrize(
    ("limits", "speed", "expected"),
    [
        ("100/minute", 1, "100 per 60 second"),
        ("100/minute", 30, "100 per 2 second"),
        ("100/minute", 120, "200 per 1 second"),
        ("5/second;100/minute", 10, "50 per 1 second;100 per 6 second"),
    ],
)
def test_rate_limits_are_restated_on_the_wall_clock(
    limits: str, speed: float, expected: str
) -> None:
    assert scale_rate_limits(limits, speed=speed) == expected


def test_a_restated_limit_allows_the_same_requests_per_simulated_minute() -> None:
    item = parse(scale_rate_limits("100/minute", speed=120))
    real_seconds = item.multiples * item.GRANULARITY.seconds
    assert item.amount / (real_seconds * 120) * 60 == pytest.approx(100)
