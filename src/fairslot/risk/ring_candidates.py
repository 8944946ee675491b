"""Which groups of the week could be flagged as rings, found before any graph is built.
Pure: no I/O.

A city's week links a million bookings and the bindings behind them into millions of
nodes; nearly every group is a household. :func:`rings.rings` flags a group only when its
structure scores, and structure only scores when the group has more than ``family_size``
patients or more than ``family_accounts`` accounts (every fan-out it counts is bounded by
those two numbers). So a union-find over the facts finds the groups, with public networks
left out exactly as :func:`rings.rings` leaves them out, and only the patients of groups
over either bound go on to the graph: the rings flagged are the same, for a fraction of
the memory and time.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import chain

from fairslot.risk.facts import BookingFact
from fairslot.risk.linking import BindingFact, RequestFact
from fairslot.risk.rings import RingSettings

# Node kinds of the union-find (a patient is 0).
_ACCOUNT, _PHONE, _NETWORK, _DEVICE, _PAYMENT = 1, 2, 3, 4, 5


@dataclass(frozen=True)
class RingInput:
    patients: frozenset[str]  # the patients of every group that could be flagged
    public_networks: frozenset[str]  # networks that join no group (too many patients)
    groups: int  # groups of at least ``min_ring_patients`` patients, candidates or not
    candidates: int  # groups whose patients are in ``patients``


def public_networks(
    bookings: Iterable[BookingFact],
    *,
    settings: RingSettings,
    requests: Iterable[RequestFact] = (),
) -> frozenset[str]:
    """Networks (an IP address or a Wi-Fi id) seen with more than ``max_network_patients``
    patients: a hospital's Wi-Fi or a carrier's NAT (``rings.public_networks``)."""
    patients_of: dict[str, set[str]] = {}
    facts: Iterable[BookingFact | RequestFact] = chain(bookings, requests)
    for fact in facts:
        for network in (fact.ip_key, fact.wifi_key):
            if network:
                patients_of.setdefault(network, set()).add(fact.patient_key)
    return frozenset(
        n for n, seen in patients_of.items() if len(seen) > settings.max_network_patients
    )


def _nodes_of(b: BookingFact | RequestFact, public: frozenset[str]) -> Iterator[tuple[int, str]]:
    if b.account_id is not None:
        yield _ACCOUNT, str(b.account_id)
    if isinstance(b, BookingFact) and b.phone_hash:
        yield _PHONE, b.phone_hash
    if b.device_key:
        yield _DEVICE, b.device_key
    if b.ip_key and b.ip_key not in public:
        yield _NETWORK, b.ip_key
    if b.wifi_key and b.wifi_key not in public:
        yield _NETWORK, b.wifi_key
    if b.payment_account_hash:
        yield _PAYMENT, b.payment_account_hash


class _Groups:
    """Union-find over node numbers; a node is numbered on first sight."""

    def __init__(self) -> None:
        self.number: dict[tuple[int, str], int] = {}
        self.parent: list[int] = []

    def node(self, key: tuple[int, str]) -> int:
        found = self.number.get(key)
        if found is None:
            found = self.number[key] = len(self.parent)
            self.parent.append(found)
        return found

    def find(self, node: int) -> int:
        parent = self.parent
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    def join(self, patient: int, keys: Iterable[tuple[int, str]]) -> None:
        root = self.find(patient)
        for key in keys:
            other = self.find(self.node(key))
            if other != root:
                self.parent[other] = root


def ring_input(
    *,
    bookings: Sequence[BookingFact],
    bindings: Sequence[BindingFact],
    settings: RingSettings,
    requests: Sequence[RequestFact] = (),
) -> RingInput:
    public = public_networks(bookings, settings=settings, requests=requests)
    groups = _Groups()
    facts: Iterable[BookingFact | RequestFact] = chain(bookings, requests)
    for fact in facts:
        groups.join(groups.node((0, fact.patient_key)), _nodes_of(fact, public))
    for binding in bindings:
        keys = [(_ACCOUNT, str(binding.account_id))]
        if binding.account_phone_hash:
            keys.append((_PHONE, binding.account_phone_hash))
        groups.join(groups.node((0, binding.patient_key)), keys)

    patients: dict[int, int] = {}
    accounts: dict[int, int] = {}
    for (kind, _), node in groups.number.items():
        if kind == 0:
            root = groups.find(node)
            patients[root] = patients.get(root, 0) + 1
        elif kind == _ACCOUNT:
            root = groups.find(node)
            accounts[root] = accounts.get(root, 0) + 1
    candidates = {
        root
        for root, count in patients.items()
        if count >= settings.min_ring_patients
        and (count > settings.family_size or accounts.get(root, 0) > settings.family_accounts)
    }
    chosen = frozenset(
        key
        for (kind, key), node in groups.number.items()
        if kind == 0 and groups.find(node) in candidates
    )
    return RingInput(
        patients=chosen,
        public_networks=public,
        groups=sum(1 for count in patients.values() if count >= settings.min_ring_patients),
        candidates=len(candidates),
    )
