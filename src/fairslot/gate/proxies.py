"""Who the client is: the HTTP peer, unless the peer is one of our trusted proxies.

``X-Forwarded-For`` is a header anyone can set, so it is believed only as far as it was
written by a proxy we trust: starting from the peer and walking the header from the
right, every address that is a trusted proxy hands over to the one before it, and the
first address that is not a trusted proxy is the client. Whatever a client wrote to the
left of that is ignored. Pure: no I/O.

(Channel servers relay their end user's address in ``X-End-User-IP``; that is a separate
rule in ``api/deps.py``: only an authenticated channel can send it.)
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from functools import lru_cache

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


@lru_cache(maxsize=16)
def parse_networks(cidrs: tuple[str, ...]) -> tuple[Network, ...]:
    """The trusted networks from their CIDRs (a bare address is a /32 or /128)."""
    return tuple(ipaddress.ip_network(c.strip(), strict=False) for c in cidrs if c.strip())


def parse_address(raw: str) -> Address | None:
    """An address as a proxy writes it (``1.2.3.4``, ``1.2.3.4:5678``, ``[::1]:80``), or
    None for anything else (``unknown``, garbage). IPv4-mapped IPv6 becomes IPv4."""
    text = raw.strip().strip('"')
    if text.startswith("[") and "]" in text:
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _trusted(address: Address | None, networks: Sequence[Network]) -> bool:
    return address is not None and any(address in n for n in networks)


def client_address(
    *, peer: str | None, forwarded_for: Iterable[str], trusted: Sequence[Network]
) -> str | None:
    """The client's address for a request from ``peer`` carrying ``forwarded_for`` (the
    values of every X-Forwarded-For header, in order).

    A peer that is not a trusted proxy is the client, whatever the headers say. Behind
    trusted proxies, the right-most address that is not one of them is the client; if
    every hop is trusted, the left-most one. An entry a trusted proxy wrote that is not an
    address (``unknown``) leaves the client unknown (None) rather than guessed.
    """
    if peer is None:
        return None
    peer_address = parse_address(peer)
    if not _trusted(peer_address, trusted):
        return str(peer_address) if peer_address is not None else peer
    hops = [hop for value in forwarded_for for hop in value.split(",") if hop.strip()]
    client: Address | None = peer_address
    for hop in reversed(hops):
        address = parse_address(hop)
        if address is None:
            return None
        client = address
        if not _trusted(address, trusted):
            break
    return str(client) if client is not None else None
