"""Who is acting, and from where: recorded with every request and ledger event.

The end user's device id, IP address and Wi-Fi id arrive in the clear and are turned into
keyed hashes here, once, at the edge that builds the context: nothing past the edge (the
database, Redis rate-limit windows, the logs) holds them raw. The hashes use the purposes
the blacklist stores its keys under (``blacklist/keys.py``), so a stored key *is* the
blacklist key. A person reading an address sees only :func:`mask_ip`'s label.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import datetime

from fairslot.crypto import Protector

# The keyed-hash purposes of the request identifiers. A Wi-Fi id shares the address's
# purpose: the blacklist's "network" scope covers both, and a key must equal the blacklist
# key of the same value.
DEVICE_PURPOSE = "device"
NETWORK_PURPOSE = "network"


@dataclass(frozen=True)
class RequestContext:
    actor: str  # "patient", "hospital", "system", "staff:<name>", "cli"
    channel_id: int | None = None
    account_id: int | None = None
    device_key: str | None = None  # keyed hash of the device id
    ip_key: str | None = None  # keyed hash of the end user's address
    ip_label: str | None = None  # the address masked for people: 203.0.113.x
    wifi_key: str | None = None  # keyed hash of the Wi-Fi id
    user_agent: str | None = None
    payment_account_hash: str | None = None
    # Pace, measured where load cannot stretch it: when the request reached the edge
    # (before it waited for a worker thread), and — where the client's own page sends it
    # (``X-Client-Step-Ms``) — the milliseconds the person spent on the previous step.
    arrived_at: datetime | None = None
    client_step_ms: int | None = None


# The largest step a client may report (an hour): a longer pause says nothing about pace.
MAX_CLIENT_STEP_MS = 3_600_000

SYSTEM = RequestContext(actor="system")


def edge_context(
    *,
    protector: Protector,
    actor: str,
    channel_id: int | None = None,
    account_id: int | None = None,
    device_id: str | None = None,
    ip: str | None = None,
    wifi_id: str | None = None,
    user_agent: str | None = None,
    payment_account_hash: str | None = None,
    arrived_at: datetime | None = None,
    client_step_ms: int | None = None,
) -> RequestContext:
    """The context of a request whose raw identifiers are known only here, at the edge.
    A client step outside ``0..MAX_CLIENT_STEP_MS`` is not believed (None)."""
    return RequestContext(
        actor=actor,
        channel_id=channel_id,
        account_id=account_id,
        device_key=device_key(device_id, protector=protector) if device_id else None,
        ip_key=network_key(ip, protector=protector) if ip else None,
        ip_label=mask_ip(ip) if ip else None,
        wifi_key=network_key(wifi_id, protector=protector) if wifi_id else None,
        user_agent=user_agent,
        payment_account_hash=payment_account_hash,
        arrived_at=arrived_at,
        client_step_ms=(
            client_step_ms
            if client_step_ms is not None and 0 <= client_step_ms <= MAX_CLIENT_STEP_MS
            else None
        ),
    )


def client_step(raw: str | None) -> int | None:
    """The ``X-Client-Step-Ms`` header as whole milliseconds; None when absent or not a
    plain number (a page's bug must not refuse a patient's request)."""
    text = (raw or "").strip()
    if not text.isdigit() or len(text) > 10:
        return None
    return int(text)


def device_key(device_id: str, *, protector: Protector) -> str:
    return protector.keyed_hash(device_id.strip(), purpose=DEVICE_PURPOSE)


def network_key(value: str, *, protector: Protector) -> str:
    """The key of an IP address or a Wi-Fi id (the blacklist's "network" scope)."""
    return protector.keyed_hash(value.strip(), purpose=NETWORK_PURPOSE)


def mask_ip(address: str) -> str:
    """An address as a person may read it: an IPv4 address keeps its /24 (``203.0.113.x``),
    an IPv6 address its /48 (``2001:db8:1::/48``). Anything else keeps its first characters."""
    text = address.strip()
    try:
        parsed = ipaddress.ip_address(text)
    except ValueError:
        return text[:3] + "…" if len(text) > 3 else "…"
    if isinstance(parsed, ipaddress.IPv4Address):
        a, b, c, _ = text.split(".")
        return f"{a}.{b}.{c}.x"
    if parsed.ipv4_mapped is not None:
        return mask_ip(str(parsed.ipv4_mapped))
    network = ipaddress.ip_network(f"{parsed}/48", strict=False)
    return str(network)


def short_key(key: str) -> str:
    """A stored key as a reviewer tells one from another: its first ten hex digits."""
    return key[:10] + "…"
