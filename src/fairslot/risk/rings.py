"""Rings: connected groups of patients and the identifiers they share, judged as a whole.

Pure: no database, no web. The batch turns the window's bookings and bindings into
:class:`Link` rows; :func:`build_graph` makes an undirected graph whose nodes are typed
``(kind, value)`` pairs — ``("patient", key)``, ``("account", id)``, ``("phone", hash)``,
``("device", id)``, ``("network", ip or Wi-Fi id)``, ``("payment", hash)`` — and whose edges
join every pair of nodes seen together in one link. :func:`rings` cuts the graph into
connected groups and scores each group.

Why a group is scored on two axes, and flagged only when both speak:

* **structure** — the group is connected more widely than a household is: more patients
  than a family, more accounts than a family uses, one device, payment account or account
  serving many patients, several accounts converging on one phone, device or payment account.
  A family (up to ``family_size`` patients on up to ``family_accounts`` accounts) sharing one
  phone and one home network earns no structure points at all: phones and networks are
  household identifiers, so patients per phone or per network are never scored.
* **behaviour** — the group books like scalpers: mostly scarce slots, many cancellations
  without a visit, many no-shows, many bookings per patient. Only counted once the group
  has ``min_bookings`` bookings, because a rate over three bookings is noise. Or the group
  acts faster than people: the real-time gate flagged ``flagged_requests`` of its requests
  (a hold seconds after registration, a payment seconds after the hold). That needs no
  bookings: under a release draw or a full clinic, grab software books little and tries a lot.

A large structure with ordinary booking (a carer booking for a care home's residents) or a
household with a bad week is therefore not flagged; a ring is.

Public networks (a hospital's Wi-Fi, a carrier's NAT) are shared by very many unrelated
patients; a network node linked to more than ``max_network_patients`` patients is dropped
before grouping so that it cannot glue strangers into one ring.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from itertools import combinations
from typing import Final

import networkx as nx  # type: ignore[import-untyped, unused-ignore]

Node = tuple[str, str]
"""A graph node: ``(kind, value)``."""

PATIENT: Final = "patient"
ACCOUNT: Final = "account"
PHONE: Final = "phone"
DEVICE: Final = "device"
NETWORK: Final = "network"
PAYMENT: Final = "payment"

IDENTIFIER_KINDS: Final = (PHONE, DEVICE, NETWORK, PAYMENT)
"""The kinds listed in :attr:`Ring.identifiers`, in this order."""

# Identifiers whose fan-out is scored. Phones and networks are left out of "patients per
# identifier" on purpose: a household shares them, so they say nothing about a ring.
_PATIENT_FANOUT_KINDS: Final = (ACCOUNT, DEVICE, PAYMENT)
_ACCOUNT_FANOUT_KINDS: Final = (PHONE, DEVICE, PAYMENT)

_COUNTERS: Final = (
    "bookings",
    "scarce",
    "cancelled_without_visit",
    "no_shows",
    "flagged_requests",
)


@dataclass(frozen=True)
class Link:
    """One booking (``booked=True``), one binding (a patient bound to an account, a phone
    seen at registration...) or the requests made for a patient with one set of identifiers
    (``flagged_requests`` of them flagged by the gate), with every identifier that came with
    it. ``None`` or ``""`` means the identifier was not recorded."""

    patient_key: str
    account_id: str | None = None
    phone_hash: str | None = None
    device_key: str | None = None
    ip_key: str | None = None
    wifi_key: str | None = None
    payment_account_hash: str | None = None
    booked: bool = False
    scarce: bool = False
    cancelled_without_visit: bool = False
    no_show: bool = False
    flagged_requests: int = 0  # requests the real-time gate flagged (a request link)

    def nodes(self) -> list[Node]:
        """The patient first, then each recorded identifier, without duplicates."""
        pairs = [
            (PATIENT, self.patient_key),
            (ACCOUNT, self.account_id),
            (PHONE, self.phone_hash),
            (DEVICE, self.device_key),
            (NETWORK, self.ip_key),
            (NETWORK, self.wifi_key),
            (PAYMENT, self.payment_account_hash),
        ]
        found: list[Node] = []
        for kind, value in pairs:
            if value and (kind, value) not in found:
                found.append((kind, value))
        return found


@dataclass(frozen=True)
class RingSettings:
    """Thresholds for :func:`rings`. Every default is a starting point for a hospital to tune.

    * ``max_network_patients`` (25): a network linked to more patients than this is public
      (hospital Wi-Fi, carrier NAT) and ignored when grouping.
    * ``min_ring_patients`` (2): smaller groups are individuals, left to the per-patient rules.
    * ``family_size`` (5): a household has up to this many patients.
    * ``family_accounts`` (2): a household uses up to this many accounts.
    * ``min_bookings`` (5): behaviour is scored only from this many bookings in the group.
    * ``scarce_share`` (0.5): share of bookings on scarce slots that counts as hoarding.
    * ``cancel_rate`` (0.3): cancellations without a visit per booking.
    * ``no_show_rate`` (0.3): no-shows per booking.
    * ``bookings_per_patient`` (3.0): bookings per patient in the window.
    * ``flagged_requests`` (3): requests the real-time gate flagged as faster than a person.
    * ``flag_score`` (4): a group is flagged from this total score, and only if both its
      structure score and its behaviour score are at least 1.
    """

    max_network_patients: int = 25
    min_ring_patients: int = 2
    family_size: int = 5
    family_accounts: int = 2
    min_bookings: int = 5
    scarce_share: float = 0.5
    cancel_rate: float = 0.3
    no_show_rate: float = 0.3
    bookings_per_patient: float = 3.0
    flagged_requests: int = 3
    flag_score: int = 4


DEFAULT_SETTINGS: Final = RingSettings()


@dataclass(frozen=True)
class Reason:
    """One contribution to a ring's score: a stable ``code``, its points and a sentence a
    reviewer can read."""

    code: str
    points: int
    detail: str


@dataclass(frozen=True)
class Ring:
    """A connected group. ``ring_id`` is a hash of the sorted member nodes: the same group
    gets the same id on every run, and a group that gains or loses a member gets a new one."""

    ring_id: str
    patients: tuple[str, ...]
    accounts: tuple[str, ...]
    identifiers: tuple[tuple[str, tuple[str, ...]], ...]
    score: int
    reasons: tuple[Reason, ...]
    flagged: bool
    bookings: int = 0
    scarce: int = 0
    cancelled_without_visit: int = 0
    no_shows: int = 0
    flagged_requests: int = 0
    members: tuple[Node, ...] = field(default=(), repr=False)

    def identifiers_of(self, kind: str) -> tuple[str, ...]:
        """The ring's identifiers of one kind (``phone``, ``device``, ``network``, ``payment``)."""
        return dict(self.identifiers).get(kind, ())


def build_graph(links: Iterable[Link]) -> nx.Graph:
    """The identity graph of ``links``.

    Patient nodes carry the counters ``bookings``, ``scarce``, ``cancelled_without_visit`` and
    ``no_shows``; every node carries its ``kind``; edges carry ``links``, the number of links
    that joined the two nodes.
    """
    graph = nx.Graph()
    for link in links:
        nodes = link.nodes()
        for node in nodes:
            if node not in graph:
                graph.add_node(node, kind=node[0])
        patient = graph.nodes[nodes[0]]
        counts = (
            int(link.booked),
            int(link.scarce),
            int(link.cancelled_without_visit),
            int(link.no_show),
            link.flagged_requests,
        )
        for counter, count in zip(_COUNTERS, counts, strict=True):
            patient[counter] = patient.get(counter, 0) + count
        for a, b in combinations(nodes, 2):
            if graph.has_edge(a, b):
                graph.edges[a, b]["links"] += 1
            else:
                graph.add_edge(a, b, links=1)
    return graph


def public_networks(graph: nx.Graph, settings: RingSettings = DEFAULT_SETTINGS) -> list[Node]:
    """Network nodes linked to more than ``max_network_patients`` patients, sorted."""
    return sorted(
        node
        for node in _nodes(graph)
        if node[0] == NETWORK
        and _count_neighbours(graph, node, PATIENT) > settings.max_network_patients
    )


def rings(graph: nx.Graph, settings: RingSettings = DEFAULT_SETTINGS) -> list[Ring]:
    """Every group of at least ``min_ring_patients`` patients, scored.

    Order: flagged first, then by score (highest first), then by ``ring_id``.
    """
    found: list[Ring] = []
    for component in _components(graph, skip=set(public_networks(graph, settings))):
        members = sorted(component)
        patients = [value for kind, value in members if kind == PATIENT]
        if len(patients) < settings.min_ring_patients:
            continue
        # Scoring counts only patient and account neighbours of member identifiers, so the
        # whole graph serves: a skipped public network is neither.
        found.append(_score(graph, members, settings))
    return sorted(found, key=lambda ring: (not ring.flagged, -ring.score, ring.ring_id))


def ring_id(members: Iterable[Node]) -> str:
    """A stable id for a set of member nodes: the first 16 hex digits of a SHA-256."""
    text = json.dumps(sorted(members), separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _score(graph: nx.Graph, members: list[Node], settings: RingSettings) -> Ring:
    by_kind: dict[str, list[str]] = {}
    for kind, value in members:
        by_kind.setdefault(kind, []).append(value)
    totals = {counter: 0 for counter in _COUNTERS}
    for node in members:
        if node[0] == PATIENT:
            attrs: Mapping[str, int] = graph.nodes[node]
            for counter in _COUNTERS:
                totals[counter] += attrs.get(counter, 0)

    structure = list(_structure_reasons(graph, by_kind, settings))
    behaviour = list(_behaviour_reasons(len(by_kind[PATIENT]), totals, settings))
    structure_points = sum(reason.points for reason in structure)
    behaviour_points = sum(reason.points for reason in behaviour)
    score = structure_points + behaviour_points
    return Ring(
        ring_id=ring_id(members),
        patients=tuple(by_kind[PATIENT]),
        accounts=tuple(by_kind.get(ACCOUNT, ())),
        identifiers=tuple((kind, tuple(by_kind.get(kind, ()))) for kind in IDENTIFIER_KINDS),
        score=score,
        reasons=(*structure, *behaviour),
        flagged=(structure_points >= 1 and behaviour_points >= 1 and score >= settings.flag_score),
        bookings=totals["bookings"],
        scarce=totals["scarce"],
        cancelled_without_visit=totals["cancelled_without_visit"],
        no_shows=totals["no_shows"],
        flagged_requests=totals["flagged_requests"],
        members=tuple(members),
    )


def _structure_reasons(
    graph: nx.Graph, by_kind: Mapping[str, list[str]], settings: RingSettings
) -> Iterator[Reason]:
    patients = len(by_kind[PATIENT])
    if patients > settings.family_size:
        points = 2 if patients > 2 * settings.family_size else 1
        yield Reason(
            "patients",
            points,
            f"{patients} patients linked (a household has up to {settings.family_size})",
        )
    accounts = len(by_kind.get(ACCOUNT, ()))
    if accounts > settings.family_accounts:
        yield Reason(
            "accounts",
            1,
            f"{accounts} accounts linked (a household uses up to {settings.family_accounts})",
        )
    for kind in _PATIENT_FANOUT_KINDS:
        most, value = _widest(graph, kind, by_kind, PATIENT)
        if most > settings.family_size:
            yield Reason(f"patients_per_{kind}", 1, f"{kind} {value} serves {most} patients")
    for kind in _ACCOUNT_FANOUT_KINDS:
        most, value = _widest(graph, kind, by_kind, ACCOUNT)
        if most > settings.family_accounts:
            yield Reason(f"accounts_per_{kind}", 1, f"{kind} {value} is shared by {most} accounts")


def _behaviour_reasons(
    patients: int, totals: Mapping[str, int], settings: RingSettings
) -> Iterator[Reason]:
    flagged = totals["flagged_requests"]
    if flagged >= settings.flagged_requests:
        yield Reason(
            "machine_pace",
            1,
            f"{flagged} requests faster than a person (flagged by the real-time gate)",
        )
    bookings = totals["bookings"]
    if bookings < settings.min_bookings:
        return
    checks = (
        ("scarce_share", totals["scarce"], settings.scarce_share, "on scarce slots"),
        (
            "cancel_rate",
            totals["cancelled_without_visit"],
            settings.cancel_rate,
            "cancelled without a visit",
        ),
        ("no_show_rate", totals["no_shows"], settings.no_show_rate, "not attended"),
    )
    for code, count, threshold, what in checks:
        if count / bookings >= threshold:
            yield Reason(code, 1, f"{count} of {bookings} bookings {what}")
    if bookings / patients >= settings.bookings_per_patient:
        yield Reason(
            "bookings_per_patient",
            1,
            f"{bookings} bookings for {patients} patients",
        )


def _widest(
    graph: nx.Graph, kind: str, by_kind: Mapping[str, list[str]], counted: str
) -> tuple[int, str]:
    """The identifier of ``kind`` with the most neighbours of kind ``counted``: (count, value).
    Ties go to the smallest value, so reasons read the same on every run."""
    best = (0, "")
    for value in by_kind.get(kind, ()):
        count = _count_neighbours(graph, (kind, value), counted)
        if count > best[0]:
            best = (count, value)
    return best


def _components(graph: nx.Graph, *, skip: set[Node]) -> Iterator[list[Node]]:
    """Connected components with the ``skip`` nodes taken out. A plain search rather than a
    networkx view or a pruned copy: both cost more than the search itself on large graphs."""
    adjacency: Mapping[Node, Iterable[Node]] = graph.adj
    seen = set(skip)
    for start in _nodes(graph):
        if start in seen:
            continue
        seen.add(start)
        stack, component = [start], []
        while stack:
            node = stack.pop()
            component.append(node)
            for neighbour in adjacency[node]:
                if neighbour not in seen:
                    seen.add(neighbour)
                    stack.append(neighbour)
        yield component


def _count_neighbours(graph: nx.Graph, node: Node, kind: str) -> int:
    neighbours: Iterable[Node] = graph.neighbors(node)
    return sum(1 for neighbour in neighbours if neighbour[0] == kind)


def _nodes(graph: nx.Graph) -> Iterator[Node]:
    nodes: Iterable[Node] = graph.nodes
    yield from nodes
