"""Every switch of the simulator's baseline turns a protection off, so a production
platform refuses to start with any one of them set; development and test accept them.
Pure: no database (``bootstrap`` refuses before it opens one)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from fairslot.bootstrap import bootstrap
from fairslot.config import Settings, load_settings
from fairslot.sim.modes import Mode, platform_env

GOOD_DATA_KEY = "n3mU2Bx6QeW0m5f3KcJ1yX9pQ2rT4vZ8aB7cD6eF5gE="  # 32 bytes, urlsafe base64
GOOD_HASH_KEY = "a-production-hash-key-of-at-least-32-bytes"
START = datetime(2026, 11, 21, 15, 50, tzinfo=UTC)

SWITCHES = {
    "gate": ({"gate_enabled": False}, "FAIRSLOT_GATE_ENABLED"),
    "rate limits": ({"rate_limit_enabled": False}, "FAIRSLOT_RATE_LIMIT_ENABLED"),
    "velocity": ({"velocity_enabled": False}, "FAIRSLOT_VELOCITY_ENABLED"),
    "waitlist": ({"waitlist_enabled": False}, "FAIRSLOT_WAITLIST_ENABLED"),
    "cooling": ({"cooling_min_minutes": 0, "cooling_max_minutes": 0}, "FAIRSLOT_COOLING"),
    "clock start": ({"sim_clock_start": START}, "FAIRSLOT_SIM_CLOCK"),
    "clock anchor": ({"sim_clock_anchor": START}, "FAIRSLOT_SIM_CLOCK"),
    "clock speed": ({"sim_clock_speed": 60.0}, "FAIRSLOT_SIM_CLOCK"),
    "clock changes": ({"sim_clock_changes": [(START, 5.0)]}, "FAIRSLOT_SIM_CLOCK"),
}


def production(**overrides: object) -> Settings:
    return load_settings(
        environment="production",
        data_key=GOOD_DATA_KEY,
        hash_key=GOOD_HASH_KEY,
        database_url="sqlite:///:memory:",
        metrics_token="a-long-random-token-for-prometheus-scrapes",
        **overrides,
    )


@pytest.mark.parametrize(("overrides", "named"), SWITCHES.values(), ids=SWITCHES.keys())
def test_production_refuses_each_switch_that_turns_a_protection_off(
    overrides: dict[str, object], named: str
) -> None:
    settings = production(**overrides)

    with pytest.raises(RuntimeError, match=named):
        settings.check_production()
    with pytest.raises(RuntimeError, match=named):
        bootstrap(settings)


def test_production_with_every_protection_on_passes_the_check() -> None:
    production().check_production()


@pytest.mark.parametrize(
    "cooling",
    [{"cooling_min_minutes": 0}, {"cooling_min_minutes": 30, "cooling_max_minutes": 30}],
    ids=["from-zero", "fixed"],
)
def test_production_accepts_cooling_that_still_delays(cooling: dict[str, object]) -> None:
    production(**cooling).check_production()


def test_production_refuses_the_simulators_whole_baseline(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    env = platform_env(Mode.BASELINE, clock_start=START, clock_anchor=START, speed=60.0)
    for name, value in env.items():
        monkeypatch.setenv(name, value)

    with pytest.raises(RuntimeError) as refused:
        production().check_production()
    for _, named in SWITCHES.values():
        assert named in str(refused.value)


@pytest.mark.parametrize("environment", ["development", "test"])
def test_development_and_test_accept_every_switch(environment: str) -> None:
    overrides: dict[str, object] = {}
    for switch, _ in SWITCHES.values():
        overrides |= switch

    load_settings(environment=environment, **overrides).check_production()
