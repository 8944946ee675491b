"""What stands between a sign-in and the password hash: the throttle's policy
(``staff/throttle.py``), the keyed hash an address is counted by, and a bound on the
password verifications this process runs at once.

argon2 is slow on purpose (tens of milliseconds of CPU and 64 MiB per verification): a
flood of guesses verified all at once would take the CPU from every other request. At
most ``concurrency`` verifications run at a time; a sign-in that cannot start one within
``wait_seconds`` is refused (429 ``sign_in_busy``), having hashed nothing. The sign-in
routes wait for their turn on the event loop first (:class:`Admission`), so waiting holds
no worker thread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from fairslot.crypto import Protector
from fairslot.staff.errors import SignInBusy
from fairslot.staff.throttle import ThrottlePolicy, address_scope

Verify = Callable[[str, str], bool]
_hasher = PasswordHasher()


def argon2_verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


class PasswordVerifier:
    """Verify passwords, at most ``concurrency`` at once in this process."""

    def __init__(
        self, *, concurrency: int, wait_seconds: float, verify: Verify = argon2_verify
    ) -> None:
        self._slots = threading.BoundedSemaphore(concurrency)
        self._wait = wait_seconds
        self._verify = verify

    def verify(self, password_hash: str, password: str) -> bool:
        if not self._slots.acquire(timeout=self._wait):
            raise busy()
        try:
            return self._verify(password_hash, password)
        finally:
            self._slots.release()


class Admission:
    """At most ``limit`` sign-ins in progress in this process. The sign-in routes wait
    for a place on the event loop (``api/staff_signin.py::sign_in_slot``), before any
    worker thread or database connection is taken: a flood of guesses then queues
    where it costs nothing and cannot hold the threads other requests need."""

    def __init__(self, *, limit: int) -> None:
        self._places = threading.BoundedSemaphore(limit)

    def try_enter(self) -> bool:
        return self._places.acquire(blocking=False)

    def leave(self) -> None:
        self._places.release()


def busy() -> SignInBusy:
    return SignInBusy(
        "Too many sign-ins are being checked right now; try again in a moment.",
        detail_zh="当前登录验证繁忙，请稍后再试。",
        retry_after=1,
    )


@dataclass(frozen=True)
class SignInGuard:
    policy: ThrottlePolicy
    verifier: PasswordVerifier
    protector: Protector
    admission: Admission

    def address_key(self, address: str | None) -> str:
        """The keyed hash failures from ``address`` are counted by (never the address)."""
        return self.protector.keyed_hash(address_scope(address), purpose="staff_sign_in")[:32]
