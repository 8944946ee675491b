"""The in-memory moving windows behind the rate limits: the rule of ``limits``' moving
window, with no timer thread."""

from __future__ import annotations

import threading

import limits.storage.memory as limits_memory
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from limits import parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from fairslot.gate.ratelimit import MemoryWindows


class FakeTime:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_a_full_window_refuses_until_its_oldest_hit_leaves_it() -> None:
    clock = FakeTime()
    windows = MemoryWindows(now=clock)
    item = parse("3/second")
    assert [windows.hit(item, "device", "a") for _ in range(3)] == [True] * 3
    clock.t += 0.5
    assert windows.hit(item, "device", "a") is False
    clock.t += 0.51  # 1.01 s after the first three: they have left the window
    assert windows.hit(item, "device", "a") is True


def test_the_window_moves_rather_than_resetting_on_a_boundary() -> None:
    clock = FakeTime()
    windows = MemoryWindows(now=clock)
    item = parse("2/second")
    assert windows.hit(item, "ip", "x")
    clock.t += 0.9
    assert windows.hit(item, "ip", "x")
    clock.t += 0.2  # the first hit left, the second is 0.2 s old: one place
    assert windows.hit(item, "ip", "x") is True
    assert windows.hit(item, "ip", "x") is False


def test_refused_hits_are_not_counted() -> None:
    clock = FakeTime()
    windows = MemoryWindows(now=clock)
    item = parse("2/second")
    windows.hit(item, "device", "a")
    windows.hit(item, "device", "a")
    for _ in range(50):
        clock.t += 0.01
        assert windows.hit(item, "device", "a") is False
    clock.t = 1000.0 + 1.01
    assert windows.hit(item, "device", "a") is True


def test_subjects_and_limits_have_windows_of_their_own() -> None:
    clock = FakeTime()
    windows = MemoryWindows(now=clock)
    second, minute = parse("1/second"), parse("100/minute")
    assert windows.hit(second, "device", "a")
    assert windows.hit(second, "device", "a") is False
    assert windows.hit(second, "device", "b")
    assert windows.hit(second, "ip", "a")
    assert windows.hit(minute, "device", "a")


def test_idle_subjects_are_forgotten_by_the_sweep() -> None:
    clock = FakeTime()
    windows = MemoryWindows(now=clock, sweep_every=10)
    item = parse("5/second")
    for n in range(100):
        windows.hit(item, "device", str(n))
    assert len(windows) == 100
    clock.t += 11
    windows.hit(item, "device", "new")
    assert len(windows) == 1


def test_concurrent_hits_allow_exactly_the_limit() -> None:
    windows = MemoryWindows()
    item = parse("50/minute")
    allowed: list[bool] = []
    lock = threading.Lock()

    def hammer() -> None:
        for _ in range(40):
            ok = windows.hit(item, "account", "1")
            with lock:
                allowed.append(ok)

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert allowed.count(True) == 50 and len(allowed) == 320


# --- the same answers as the library's own moving window ---------------------------------


class _LibraryClock:
    """Stands in for the ``time`` module inside ``limits.storage.memory``."""

    def __init__(self, clock: FakeTime) -> None:
        self._clock = clock

    def time(self) -> float:
        return self._clock()


@settings(max_examples=200, deadline=None)
@given(
    steps=st.lists(
        st.tuples(
            st.sampled_from([0.0, 0.1, 0.25, 0.5, 0.9, 1.0, 1.5, 2.0]),  # seconds to wait
            st.sampled_from(["a", "b"]),  # whose request
        ),
        max_size=60,
    ),
    limit=st.sampled_from(["1/second", "3/second", "2/2 seconds", "5/minute"]),
)
def test_every_answer_is_the_libraries_moving_window_answer(
    steps: list[tuple[float, str]], limit: str
) -> None:
    # limits' MovingWindowRateLimiter over its MemoryStorage is the reference; both read
    # the same fake clock (the library through its module's ``time``).
    clock = FakeTime()
    ours = MemoryWindows(now=clock)
    storage = MemoryStorage()
    reference = MovingWindowRateLimiter(storage)
    item = parse(limit)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(limits_memory, "time", _LibraryClock(clock))
        try:
            for wait, who in steps:
                clock.t += wait
                assert ours.hit(item, "device", who) == reference.hit(item, "device", who)
        finally:
            storage.timer.cancel()
