"""Judging collateral before blocking: a shared address is never blocked outright, a
grab ring's proxies give way to its devices and payment accounts, a family's own Wi-Fi
can still be blocked."""

from __future__ import annotations

from fairslot.cases.candidates import Candidate
from fairslot.cases.collateral import (
    SHARED_ADDRESS,
    SHARED_IDENTIFIER,
    STRONGER_BLOCKS,
    plan,
    shared,
)


def cand(scope: str, key: str, label: str | None = None) -> Candidate:
    return Candidate(scope=scope, key=key, label=label or f"{scope} {key}", sources=("x",))


RING = [
    cand("patient", "p1"),
    cand("patient", "p2"),
    cand("device", "d1"),
    cand("payment", "pay1"),
    *(cand("network", f"ip{n}", f"ip 203.0.113.x #{n}") for n in range(40)),
    cand("network", "carrier", "ip 198.51.100.x"),
    cand("network", "wifi-op", "wifi ab12"),
]


def test_a_carrier_address_many_strangers_share_is_never_blocked_outright() -> None:
    found = plan(RING, scopes={"network"}, others={("network", "carrier"): 140})
    held = {h.candidate.key: h.reason for h in found.held_back}
    assert held["carrier"] == SHARED_ADDRESS
    assert "carrier" not in {c.key for c in found.block}


def test_a_confirmed_ring_is_stopped_by_a_small_set_of_blocks_not_by_its_proxies() -> None:
    found = plan(
        RING,
        scopes={"patient", "device", "payment", "network"},
        others={("network", "carrier"): 140},
    )
    blocked = {(c.scope, c.key) for c in found.block}
    assert blocked == {
        ("patient", "p1"),
        ("patient", "p2"),
        ("device", "d1"),
        ("payment", "pay1"),
        ("network", "wifi-op"),  # the operator's own Wi-Fi, nobody else's
    }
    reasons = {h.candidate.key: h.reason for h in found.held_back}
    assert reasons["ip7"] == STRONGER_BLOCKS and reasons["carrier"] == SHARED_ADDRESS
    assert len(found.block) == 5 and len(found.held_back) == 41


def test_addresses_alone_are_blocked_when_nothing_stronger_is_chosen_and_nobody_shares_them() -> (
    None
):
    found = plan(RING, scopes={"network"}, others={})
    assert len(found.block) == 42 and [h.candidate.key for h in found.held_back] == []


def test_a_device_or_payment_account_used_by_many_strangers_is_held_back() -> None:
    kiosk = [cand("device", "kiosk"), cand("patient", "p1")]
    found = plan(kiosk, scopes={"device", "patient"}, others={("device", "kiosk"): 60})
    assert [(h.candidate.key, h.reason, h.others) for h in found.held_back] == [
        ("kiosk", SHARED_IDENTIFIER, 60)
    ]
    assert [c.key for c in found.block] == ["p1"]


def test_a_family_home_network_and_a_patient_are_not_shared() -> None:
    assert shared("network", 2) is None  # the family's other members
    assert shared("network", 3) == SHARED_ADDRESS
    assert shared("patient", 1000) is None  # a patient key stops one person
    assert shared("device", None) is None  # nobody else known
