"""The ring of a case as a graph a reviewer can look at: its patients, accounts, phones,
devices, networks and payment accounts as nodes, what links them as edges. Pure: no I/O.

The nodes are the case's blockable identifiers (``cases/candidates.py::derive``), under the
same keys and masked labels, so the picture and the block form name the same things. The
edges come from what tied them together: the case's bookings, the bindings of its
accounts and the gate's request records (a device or proxy links identities even when
they booked nothing), each given as a :class:`Link`. An identifier linked to several
patients is *shared*: the reason the identities are one ring, and the reason to look twice
before blocking it (a family's phone is shared too).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from fairslot.cases.candidates import SCOPES, Candidate, PersonFacts
from fairslot.patients.identity import mask_name

# Identifiers that make identities one ring when several patients share them. An account
# booking for a few bound family members is how the platform is meant to be used.
SHARED_SCOPES: Final = frozenset({"phone", "device", "network", "payment"})
SHARED_FROM: Final = 2  # patients


@dataclass(frozen=True, kw_only=True)
class Link:
    """Identifiers seen together once: a booking, a binding or a request record."""

    patient_id: int | None = None
    account_id: int | None = None
    device_key: str | None = None
    ip_key: str | None = None
    wifi_key: str | None = None
    payment_hash: str | None = None


@dataclass(frozen=True)
class Node:
    id: str  # "<scope>:<key>"
    scope: str
    label: str
    patients: int  # how many of the case's patients it is linked to
    shared: bool


@dataclass(frozen=True, order=True)
class Edge:
    source: str
    target: str
    shared: bool  # ties a patient to a shared identifier


@dataclass(frozen=True)
class RingGraph:
    nodes: list[Node]
    edges: list[Edge]

    @property
    def shared(self) -> list[Node]:
        return [n for n in self.nodes if n.shared]


def node_id(scope: str, key: str) -> str:
    return f"{scope}:{key}"


def build(
    *,
    candidates: Sequence[Candidate],
    people: Iterable[PersonFacts],
    account_phones: Mapping[int, str],
    names: Mapping[int, str],
    links: Iterable[Link],
) -> RingGraph:
    """The graph of ``candidates`` with the edges ``links`` and the people's phones give.

    ``account_phones`` maps account id → the login phone's hash; ``names`` patient id →
    name (shown masked). Edges between identifiers that are not candidates are dropped:
    the picture shows only what the case holds.
    """
    present = {node_id(c.scope, c.key): c for c in candidates}
    person_by_id = {p.patient_id: p for p in people}
    adjacent: dict[str, set[str]] = defaultdict(set)

    def link(a: str | None, b: str | None) -> None:
        if a and b and a != b and a in present and b in present:
            adjacent[a].add(b)
            adjacent[b].add(a)

    for person in person_by_id.values():
        link(node_id("patient", person.id_hash), node_id("phone", person.phone_hash))
    for account_id, phone_hash in account_phones.items():
        link(node_id("account", f"account:{account_id}"), node_id("phone", phone_hash))
    for found in links:
        ends = _identifiers(found)
        owner = person_by_id.get(found.patient_id) if found.patient_id is not None else None
        hub: str | None = node_id("patient", owner.id_hash) if owner is not None else None
        if hub is None or hub not in present:
            account = (
                node_id("account", f"account:{found.account_id}")
                if found.account_id is not None
                else None
            )
            hub = account if account in present else None
        for end in ends:
            link(hub, end)
    patient_ids = {i for i, c in present.items() if c.scope == "patient"}
    by_id_hash = {p.id_hash: p for p in person_by_id.values()}
    nodes = []
    shared_ids = set()
    for ident, candidate in present.items():
        patients = len(adjacent[ident] & patient_ids)
        shared = candidate.scope in SHARED_SCOPES and patients >= SHARED_FROM
        if shared:
            shared_ids.add(ident)
        nodes.append(
            Node(
                id=ident,
                scope=candidate.scope,
                label=_label(candidate, by_id_hash, names),
                patients=patients,
                shared=shared,
            )
        )
    order = {scope: i for i, scope in enumerate(SCOPES)}
    nodes.sort(key=lambda n: (order.get(n.scope, len(order)), n.label, n.id))
    # A link is drawn as shared when it ties a patient to a shared identifier: the lines
    # that make the identities one ring (an account's login phone is not one of them).
    edges = sorted(
        Edge(
            a,
            b,
            shared=(a in shared_ids and b in patient_ids) or (b in shared_ids and a in patient_ids),
        )
        for a, ends in adjacent.items()
        for b in ends
        if a < b
    )
    return RingGraph(nodes=nodes, edges=edges)


def _identifiers(found: Link) -> list[str]:
    ends = []
    if found.account_id is not None:
        ends.append(node_id("account", f"account:{found.account_id}"))
    if found.device_key:
        # Stored as the blacklist key already (``context.py``): no second hash.
        ends.append(node_id("device", found.device_key))
    for network in (found.ip_key, found.wifi_key):
        if network:
            ends.append(node_id("network", network))
    if found.payment_hash:
        ends.append(node_id("payment", found.payment_hash))
    return ends


def _label(
    candidate: Candidate, people: Mapping[str, PersonFacts], names: Mapping[int, str]
) -> str:
    """A short masked label for the picture: a patient as masked name and the last four
    characters of the ID number; a phone without its country code."""
    if candidate.scope == "patient":
        person = people.get(candidate.key)
        if person is None:
            return candidate.label
        name = names.get(person.patient_id)
        tail = person.id_masked[-4:]
        return f"{mask_name(name)} ·{tail}" if name else f"·{tail}"
    if candidate.scope == "phone":
        return candidate.label.removeprefix("+86")
    return candidate.label
