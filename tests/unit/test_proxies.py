"""The client's address comes from the peer, and from X-Forwarded-For only as far as our
trusted proxies wrote it."""

from __future__ import annotations

import pytest

from fairslot.gate.proxies import client_address, parse_address, parse_networks

LOOPBACK = parse_networks(("127.0.0.1/32", "::1/128"))
BALANCERS = parse_networks(("10.0.0.0/8", "127.0.0.1"))


def test_an_untrusted_peer_is_the_client_whatever_it_forwards() -> None:
    assert (
        client_address(peer="198.51.100.7", forwarded_for=["203.0.113.1"], trusted=LOOPBACK)
        == "198.51.100.7"
    )


def test_behind_a_trusted_proxy_the_forwarded_client_is_used() -> None:
    assert (
        client_address(peer="127.0.0.1", forwarded_for=["203.0.113.1"], trusted=LOOPBACK)
        == "203.0.113.1"
    )


def test_what_a_client_wrote_left_of_the_last_untrusted_hop_is_ignored() -> None:
    # The client sent "X-Forwarded-For: 1.1.1.1"; the proxies appended what they saw.
    forwarded = ["1.1.1.1, 203.0.113.9", "10.1.2.3"]
    assert (
        client_address(peer="10.0.0.5", forwarded_for=forwarded, trusted=BALANCERS) == "203.0.113.9"
    )


def test_with_no_trusted_proxies_the_header_is_never_believed() -> None:
    assert (
        client_address(peer="127.0.0.1", forwarded_for=["203.0.113.1"], trusted=()) == "127.0.0.1"
    )


def test_when_every_hop_is_trusted_the_left_most_is_the_client() -> None:
    assert (
        client_address(peer="127.0.0.1", forwarded_for=["10.9.9.9, 10.1.1.1"], trusted=BALANCERS)
        == "10.9.9.9"
    )


def test_a_trusted_proxy_without_a_forwarded_header_is_itself_the_client() -> None:
    assert client_address(peer="127.0.0.1", forwarded_for=[], trusted=LOOPBACK) == "127.0.0.1"


def test_an_unknown_forwarded_address_leaves_the_client_unknown() -> None:
    assert client_address(peer="127.0.0.1", forwarded_for=["unknown"], trusted=LOOPBACK) is None


def test_a_peer_that_is_not_an_address_is_kept_as_it_is() -> None:
    assert client_address(peer="testclient", forwarded_for=["1.2.3.4"], trusted=LOOPBACK) == (
        "testclient"
    )


@pytest.mark.parametrize(
    ("raw", "address"),
    [
        ("203.0.113.9", "203.0.113.9"),
        (" 203.0.113.9:51234 ", "203.0.113.9"),
        ("[2001:db8::1]:443", "2001:db8::1"),
        ("2001:db8::1", "2001:db8::1"),
        ("::ffff:203.0.113.9", "203.0.113.9"),
        ("unknown", None),
        ("", None),
    ],
)
def test_addresses_are_read_as_proxies_write_them(raw: str, address: str | None) -> None:
    parsed = parse_address(raw)
    assert (str(parsed) if parsed is not None else None) == address
