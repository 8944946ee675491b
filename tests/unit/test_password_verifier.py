"""At most N password verifications run at once in a process; one more waits, then is
refused (429 ``sign_in_busy``) without hashing. Synchronised with events, never sleeps."""

from __future__ import annotations

import threading

import pytest

from fairslot.staff.errors import SignInBusy
from fairslot.staff.signin_guard import PasswordVerifier

WAIT = 5.0  # a bound for a broken test, never waited out when the code is right


class SlowHasher:
    """A fake hash check that holds its slot until released, counting how many run."""

    def __init__(self) -> None:
        self.running = 0
        self.most = 0
        self.calls = 0
        self.release = threading.Event()
        self.entered = threading.Semaphore(0)
        self._lock = threading.Lock()

    def __call__(self, password_hash: str, password: str) -> bool:
        with self._lock:
            self.running += 1
            self.calls += 1
            self.most = max(self.most, self.running)
        self.entered.release()
        assert self.release.wait(WAIT)
        with self._lock:
            self.running -= 1
        return password == "right"


def test_a_third_verification_is_refused_while_two_are_running() -> None:
    hasher = SlowHasher()
    verifier = PasswordVerifier(concurrency=2, wait_seconds=0, verify=hasher)
    results: list[bool] = []
    threads = [
        threading.Thread(target=lambda: results.append(verifier.verify("h", "right")))
        for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    for _ in threads:  # both are inside the hasher now
        assert hasher.entered.acquire(timeout=WAIT)

    with pytest.raises(SignInBusy) as refused:
        verifier.verify("h", "guess")

    hasher.release.set()
    for thread in threads:
        thread.join(WAIT)
    assert refused.value.status == 429
    assert refused.value.extra["detail_zh"]
    assert refused.value.extra["retry_after"] == 1
    assert hasher.calls == 2  # the refused one hashed nothing
    assert hasher.most == 2
    assert results == [True, True]


def test_a_waiting_verification_runs_once_a_slot_is_free() -> None:
    hasher = SlowHasher()
    verifier = PasswordVerifier(concurrency=1, wait_seconds=WAIT, verify=hasher)
    first = threading.Thread(target=verifier.verify, args=("h", "right"))
    first.start()
    assert hasher.entered.acquire(timeout=WAIT)
    second_done = threading.Event()

    def second() -> None:
        verifier.verify("h", "right")
        second_done.set()

    waiting = threading.Thread(target=second)
    waiting.start()
    assert not hasher.entered.acquire(timeout=0)  # the second has not started hashing
    hasher.release.set()
    first.join(WAIT)
    assert second_done.wait(WAIT)
    waiting.join(WAIT)
    assert hasher.most == 1
    assert hasher.calls == 2
