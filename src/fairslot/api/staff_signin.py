"""A staff sign-in as both the staff API and the console make it: the address's request
limit, then ``staff/service.py::login`` with this process's guard (the throttle policy
from the settings and the bounded password verifier, ``staff/signin_guard.py``).

The username is deliberately not a rate-limit subject: counting by username alone let
anyone lock a member of staff out from everywhere (issue 13). The throttle counts
failures per (username, address) and per address instead.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from fairslot.api.deps import PlatformDep, client_ip
from fairslot.bootstrap import Platform
from fairslot.config import Settings
from fairslot.context import network_key
from fairslot.gate.ratelimit import Subject
from fairslot.staff import service as staff_service
from fairslot.staff.models import StaffToken, StaffUser
from fairslot.staff.signin_guard import Admission, PasswordVerifier, SignInGuard, busy
from fairslot.staff.throttle import ThrottlePolicy

GUARD = "staff_sign_in_guard"
# How often a waiting sign-in looks for a free place (on the event loop: no thread held).
ADMISSION_POLL_SECONDS = 0.01
_making = threading.Lock()


def throttle_policy(settings: Settings) -> ThrottlePolicy:
    return ThrottlePolicy(
        free_failures=settings.staff_login_free_failures,
        address_free_failures=settings.staff_login_address_free_failures,
        max_delay=timedelta(seconds=settings.staff_login_max_delay_seconds),
        window=timedelta(minutes=settings.staff_login_window_minutes),
    )


def guard_for(platform: Platform) -> SignInGuard:
    """This process's guard, made once (one semaphore per process, whichever thread asks
    first)."""
    guard = platform.extras.get(GUARD)
    if isinstance(guard, SignInGuard):
        return guard
    with _making:
        guard = platform.extras.get(GUARD)
        if not isinstance(guard, SignInGuard):
            settings = platform.settings
            guard = SignInGuard(
                policy=throttle_policy(settings),
                verifier=PasswordVerifier(
                    concurrency=settings.staff_login_concurrency,
                    wait_seconds=settings.staff_login_wait_seconds,
                ),
                protector=platform.protector,
                admission=Admission(limit=settings.staff_login_concurrency),
            )
            platform.extras[GUARD] = guard
        return guard


def sign_in(
    request: Request, db: Session, platform: Platform, *, username: str, password: str
) -> tuple[StaffUser, str, StaffToken]:
    ip = client_ip(request, platform)
    if ip:
        # Counted under the address's keyed hash: no raw address in the rate-limit store.
        platform.limiter.hit(Subject("ip", network_key(ip, protector=platform.protector)))
    return staff_service.login(
        db,
        username=username,
        password=password,
        now=platform.clock.now(),
        hours=platform.settings.staff_token_hours,
        address=ip,
        guard=guard_for(platform),
    )


async def sign_in_slot(platform: PlatformDep) -> AsyncIterator[None]:
    """A place among the process's ``staff_login_concurrency`` sign-ins in progress,
    waited for on the event loop for at most ``staff_login_wait_seconds`` (then 429
    ``sign_in_busy``) and given back when the endpoint returns. Declared before the
    session, so a waiting sign-in holds neither a worker thread nor a connection."""
    admission = guard_for(platform).admission
    deadline = time.monotonic() + platform.settings.staff_login_wait_seconds
    while not admission.try_enter():
        if time.monotonic() >= deadline:
            raise busy()
        await asyncio.sleep(ADMISSION_POLL_SECONDS)
    try:
        yield
    finally:
        admission.leave()


SignInSlot = Annotated[None, Depends(sign_in_slot, scope="function")]
