"""The simulator's platform settings: the accelerated clock, how it is chosen, and what a
production platform refuses."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cryptography.fernet import Fernet
from pydantic import ValidationError

from fairslot.bootstrap import bootstrap, clock_from_settings
from fairslot.clock import AcceleratedClock, SystemClock
from fairslot.config import load_settings

START = datetime(2026, 11, 21, 15, 50, tzinfo=UTC)  # 23:50 in Shanghai
ANCHOR = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)  # a real instant


class Wall:
    """A wall clock the test moves."""

    def __init__(self) -> None:
        self.now = ANCHOR

    def __call__(self) -> datetime:
        return self.now


def test_it_reads_the_start_at_the_anchor_and_runs_speed_times_faster() -> None:
    wall = Wall()
    clock = AcceleratedClock(start=START, speed=120, anchor=ANCHOR, wall=wall)
    assert clock.now() == START
    wall.now = ANCHOR + timedelta(seconds=2.5)
    assert clock.now() == START + timedelta(minutes=5)
    assert clock.now().tzinfo is not None


def test_it_reads_before_the_start_before_the_anchor() -> None:
    wall = Wall()
    wall.now = ANCHOR - timedelta(seconds=1)
    clock = AcceleratedClock(start=START, speed=60, anchor=ANCHOR, wall=wall)
    assert clock.now() == START - timedelta(minutes=1)


def test_two_clocks_with_the_same_settings_agree_whenever_they_were_made() -> None:
    wall = Wall()
    early = AcceleratedClock(start=START, speed=200, anchor=ANCHOR, wall=wall)
    wall.now = ANCHOR + timedelta(seconds=7)
    late = AcceleratedClock(start=START, speed=200, anchor=ANCHOR, wall=wall)
    assert early.now() == late.now() == START + timedelta(seconds=1400)


def test_speed_changes_at_the_given_simulated_instants_and_time_stays_continuous() -> None:
    wall = Wall()
    slow_from = START + timedelta(minutes=10)
    fast_from = START + timedelta(minutes=11)
    clock = AcceleratedClock(
        start=START,
        speed=600,
        anchor=ANCHOR,
        changes=[(slow_from, 60), (fast_from, 600)],
        wall=wall,
    )
    wall.now = ANCHOR + timedelta(seconds=1)  # 10 simulated minutes at 600x
    assert clock.now() == slow_from
    wall.now += timedelta(seconds=0.5)  # 30 simulated seconds at 60x
    assert clock.now() == slow_from + timedelta(seconds=30)
    wall.now += timedelta(seconds=0.5)
    assert clock.now() == fast_from
    wall.now += timedelta(seconds=1)
    assert clock.now() == fast_from + timedelta(minutes=10)


def test_real_seconds_until_is_the_inverse_across_speed_changes() -> None:
    wall = Wall()
    clock = AcceleratedClock(
        start=START,
        speed=600,
        anchor=ANCHOR,
        changes=[(START + timedelta(minutes=10), 60)],
        wall=wall,
    )
    assert clock.real_seconds_until(START + timedelta(minutes=10, seconds=60)) == pytest.approx(2.0)
    wall.now = ANCHOR + timedelta(seconds=2)
    assert clock.real_seconds_until(clock.now()) == pytest.approx(0.0)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"speed": 0},
        {"speed": -5},
        {"speed": 10, "changes": [(START - timedelta(seconds=1), 5)]},
        {"speed": 10, "changes": [(START + timedelta(seconds=9), 0)]},
        {"speed": 10, "start": START.replace(tzinfo=None)},
    ],
)
def test_it_refuses_a_speed_that_is_not_positive_changes_out_of_order_or_naive_times(
    kwargs: dict[str, object],
) -> None:
    arguments: dict[str, object] = {"start": START, "anchor": ANCHOR} | kwargs
    with pytest.raises(ValueError):
        AcceleratedClock(**arguments)  # type: ignore[arg-type]


def test_the_platform_runs_on_the_wall_clock_unless_a_simulation_start_is_set() -> None:
    assert isinstance(clock_from_settings(load_settings()), SystemClock)
    settings = load_settings(
        sim_clock_start=START,
        sim_clock_speed=50,
        sim_clock_anchor=ANCHOR,
        sim_clock_changes=[(START + timedelta(hours=1), 5)],
    )
    clock = clock_from_settings(settings)
    assert isinstance(clock, AcceleratedClock)
    assert (clock.start, clock.anchor) == (START, ANCHOR)


def test_the_settings_read_the_simulation_clock_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FAIRSLOT_SIM_CLOCK_START", "2026-11-21T23:50:00+08:00")
    monkeypatch.setenv("FAIRSLOT_SIM_CLOCK_SPEED", "120")
    monkeypatch.setenv("FAIRSLOT_SIM_CLOCK_CHANGES", '[["2026-11-22T00:29:30+08:00", 20]]')
    settings = load_settings()
    assert settings.sim_clock_start == START
    assert settings.sim_clock_speed == 120
    assert settings.sim_clock_changes == [(START + timedelta(minutes=39, seconds=30), 20.0)]


def test_a_production_platform_refuses_the_simulation_clock() -> None:
    settings = load_settings(
        environment="production", data_key="k" * 44, hash_key="h", sim_clock_start=START
    )
    with pytest.raises(RuntimeError, match="simulator only"):
        clock_from_settings(settings)


@pytest.mark.parametrize(
    "overrides",
    [
        {"sim_clock_start": START.replace(tzinfo=None)},
        {"sim_clock_anchor": ANCHOR.replace(tzinfo=None)},
        {"sim_clock_speed": 0},
        {"sim_clock_changes": [(START.replace(tzinfo=None), 5)]},
        {"sim_clock_changes": [(START, 0)]},
    ],
)
def test_the_settings_refuse_naive_instants_and_speeds_that_are_not_positive(
    overrides: dict[str, object],
) -> None:
    with pytest.raises(ValidationError):
        load_settings(**overrides)


def test_a_production_platform_refuses_to_run_without_the_blacklist_gate() -> None:
    settings = load_settings(
        environment="production",
        data_key=Fernet.generate_key().decode(),  # keys production accepts
        hash_key="h" * 32,
        gate_enabled=False,
        database_url="sqlite://",
    )
    with pytest.raises(RuntimeError, match="baseline only"):
        bootstrap(settings)
