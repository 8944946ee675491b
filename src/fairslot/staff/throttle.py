"""When a staff sign-in must wait: growing delays per (username, address) pair and per
address, never a lock-out of a username (pure: no database, no web).

Counting failures per username alone hands an attacker a lock-out: a hundred wrong
passwords for ``wang`` from anywhere would keep the real ``wang`` out from everywhere.
Here an address pays for its own failures only: after ``free_failures`` failures of one
username from one address, each further try from that pair waits twice as long as the
last (up to ``max_delay``); one address failing across many usernames is slowed the
same way from ``address_free_failures``. The real user at another address is not
slowed at all. Failures older than ``window`` are forgotten.

An address is counted as the client's own IPv4 address or its IPv6 /64 (one
subscriber's block: rotating within it must not start afresh), and shown to people
masked (``203.0.113.x``, ``2001:db8:1:2::x``).
"""

from __future__ import annotations

import ipaddress
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

# 2**30 seconds is decades: any cap a setting allows is reached well before.
_MAX_DOUBLINGS = 30
UNKNOWN_ADDRESS = "unknown"


@dataclass(frozen=True)
class ThrottlePolicy:
    free_failures: int = 5
    address_free_failures: int = 20
    base_delay: timedelta = timedelta(seconds=1)
    max_delay: timedelta = timedelta(minutes=15)
    window: timedelta = timedelta(hours=1)


@dataclass(frozen=True)
class Failures:
    """Failed sign-ins within the window: of this username from this address (``pair``)
    and of any username from this address (``address``), with the latest of each."""

    pair: int = 0
    pair_last: datetime | None = None
    address: int = 0
    address_last: datetime | None = None


@dataclass(frozen=True)
class RecentFailures:
    """What a member of staff is shown after signing in: failed sign-ins for their
    username since their previous sign-in, the latest one's time and masked address."""

    count: int = 0
    last_at: datetime | None = None
    last_from: str | None = None


def delay_after(failures: int, *, free: int, policy: ThrottlePolicy) -> timedelta:
    """How long after the latest of ``failures`` the next try must wait."""
    if failures < free:
        return timedelta(0)
    doublings = min(failures - free, _MAX_DOUBLINGS)
    return min(policy.base_delay * (1 << doublings), policy.max_delay)


def retry_after(failures: Failures, *, now: datetime, policy: ThrottlePolicy) -> int | None:
    """Whole seconds until a sign-in from this pair may be tried, or None: go ahead."""
    waits = [
        last + delay_after(count, free=free, policy=policy) - now
        for count, last, free in (
            (failures.pair, failures.pair_last, policy.free_failures),
            (failures.address, failures.address_last, policy.address_free_failures),
        )
        if last is not None
    ]
    longest = max(waits, default=timedelta(0))
    if longest <= timedelta(0):
        return None
    return max(1, math.ceil(longest.total_seconds()))


def address_scope(address: str | None) -> str:
    """What one address is counted as: an IPv4 address, or an IPv6 address's /64."""
    ip = _parse(address)
    if ip is None:
        return UNKNOWN_ADDRESS
    if isinstance(ip, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((int(ip) >> 64 << 64, 64)))
    return str(ip)


def address_label(address: str | None) -> str:
    """The address as people are shown it: ``203.0.113.x``, ``2001:db8:1:2::x``."""
    ip = _parse(address)
    if ip is None:
        return UNKNOWN_ADDRESS
    if isinstance(ip, ipaddress.IPv6Address):
        groups = ip.exploded.split(":")[:4]
        return ":".join(g.lstrip("0") or "0" for g in groups) + "::x"
    return ".".join(str(ip).split(".")[:3]) + ".x"


def _parse(address: str | None) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        ip = ipaddress.ip_address((address or "").strip())
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip
