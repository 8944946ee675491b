"""Which patients could be flagged as a ring, from the identifiers they came with.
Pure: no I/O.

The same answer as ``ring_candidates.ring_input`` (a union-find over the week's bookings,
requests and bindings), for a city's week in a few hundred megabytes: the identifiers are
read once (as rows here, as the window's columns in ``window_columns.ring_grouping``) and
each is kept only as a 64-bit hash beside its patient's number (a hash here, the patient's
row id there), one pair of arrays per kind; numpy then groups one kind at a time: public
networks (more than ``max_network_patients`` patients) are left out, and only an
identifier seen with two or more patients joins them. Every account counts for its group.
The candidates' keys are picked back out of the patients' keys (:meth:`Grouped.chosen`,
or by the batch from their numbers), so no key is held while grouping.

Two different identifiers (or patients) whose hashes collide — odds around one in 10^7 for
a city's week — would only join two groups (or add a patient to the candidates): the ring
scoring then reads the whole groups and judges each alone, so no ring is flagged that
would not be (``rings.rings``); only the figures ``groups`` and ``candidates`` could be
off by one.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from fairslot.risk.ring_candidates import RingInput
from fairslot.risk.rings import RingSettings

# Kinds, as ``ring_candidates._nodes_of`` tells them apart (an address and a Wi-Fi id are
# both networks), each with a salt so that equal text of two kinds stays two nodes.
ACCOUNT, PHONE, DEVICE, NETWORK, PAYMENT = range(5)
_SALTS = (
    0x5BD1E9955BD1E995,
    0x27D4EB2F165667C5,
    0x1B87359352DD7AA5,
    0x0F5D4C3B2A190807,
    0x6A09E667F3BCC909,
)
_PATIENT_SALT = 0x3C6EF372FE94F82B
_MASK = (1 << 63) - 1  # hashes as non-negative int64

_EMPTY = np.zeros(0, dtype=np.int64)
_NONE_HASH, _EMPTY_HASH = hash(None), hash("")

IdentityRow = tuple[str, int | None, str | None, str | None, str | None, str | None, str | None]
"""(patient, account, phone, device, address, Wi-Fi, payment account): a booking, a set of
requests or a binding, with ``None`` for what it did not carry."""


def numbered(values: Sequence[str | None], kind: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Identifiers of ``kind`` (not an account) as the grouping numbers them, a whole
    column at once; where one was there at all (not NULL, as SQL counts it) and where it
    can join anyone (neither NULL nor empty, as :func:`ring_groups` reads it)."""
    hashes = np.fromiter(map(hash, values), dtype=np.int64, count=len(values))
    return hashed(hashes, kind, value_at=values.__getitem__)


def hashed(
    hashes: np.ndarray, kind: int, *, value_at: Callable[[int], str | None]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`numbered` from the column's ``hash`` values, ``value_at`` telling a value.

    NULL and the empty text hash to two known numbers, so only the few values with those
    numbers are looked at again (a key whose hash happens to equal one of them is told
    apart there): one pass of ``hash`` over the column, not three."""
    not_null = hashes != _NONE_HASH
    filled = not_null & (hashes != _EMPTY_HASH)
    for at in np.flatnonzero(~filled).tolist():
        value = value_at(at)
        not_null[at], filled[at] = value is not None, bool(value)
    return (hashes ^ _SALTS[kind]) & _MASK, not_null, filled


def number(value: str, kind: int) -> int:
    """One identifier of ``kind`` as :func:`numbered` numbers it."""
    return (hash(value) ^ _SALTS[kind]) & _MASK


def patient_hash(patient: str) -> int:
    """A patient's key as the grouping numbers it (see :func:`ring_groups`)."""
    return (hash(patient) ^ _PATIENT_SALT) & _MASK


@dataclass(frozen=True)
class Grouped:
    """What :func:`ring_groups` found: the candidates' patients and the public networks
    as hashes (the batch picks their keys back with :meth:`chosen`), and the figures of
    ``RingInput``."""

    patients: frozenset[int]
    public_hashes: frozenset[int]
    groups: int
    candidates: int

    def chosen(self, keys: Iterable[str], *, networks: Iterable[str] = ()) -> RingInput:
        """The ring input, with the candidates' keys picked out of ``keys`` (every patient
        of the rows, each at least once) and the public networks out of ``networks`` (any
        the candidates' links carry)."""
        return self.picked(
            frozenset(k for k in keys if patient_hash(k) in self.patients), networks=networks
        )

    def picked(self, patients: frozenset[str], *, networks: Iterable[str] = ()) -> RingInput:
        """The ring input of the candidates ``patients`` (the keys of :attr:`patients`,
        looked up by the caller), with the public networks picked out of ``networks``."""
        return RingInput(
            patients=patients,
            public_networks=frozenset(
                n for n in networks if (hash(n) ^ _SALTS[NETWORK]) & _MASK in self.public_hashes
            ),
            groups=self.groups,
            candidates=self.candidates,
        )


def ring_groups(rows: Iterable[IdentityRow], *, settings: RingSettings) -> Grouped:
    """Group the patients of ``rows`` as ``ring_candidates.ring_input`` does."""
    # One pair of arrays per kind: (patient number, identifier number).
    found = {kind: (array("q"), array("q")) for kind in range(5)}
    adders = {kind: (p.append, n.append) for kind, (p, n) in found.items()}
    add_account, add_account_node = adders[ACCOUNT]
    every = array("q")  # each row's patient: one with no identifier is a group of one
    add_every = every.append
    for patient, account, phone, device, ip, wifi, payment in rows:
        p = (hash(patient) ^ _PATIENT_SALT) & _MASK
        add_every(p)
        if account is not None:
            add_account(p)
            add_account_node(account)
        for kind, value in (
            (PHONE, phone),
            (DEVICE, device),
            (NETWORK, ip),
            (NETWORK, wifi),
            (PAYMENT, payment),
        ):
            if value:
                node = (hash(value) ^ _SALTS[kind]) & _MASK
                add_patient, add_node = adders[kind]
                add_patient(p)
                add_node(node)
    arrays = {
        kind: (np.frombuffer(p, dtype=np.int64), np.frombuffer(n, dtype=np.int64))
        for kind, (p, n) in found.items()
    }
    return group(arrays, np.unique(np.frombuffer(every, dtype=np.int64)), settings)


def group(
    found: dict[int, tuple[np.ndarray, np.ndarray]],
    everyone: np.ndarray,
    settings: RingSettings,
) -> Grouped:
    """Group the patients ``everyone`` (their numbers, sorted and unique) over ``found``:
    for each kind, (patient number, identifier number) pairs, which it consumes. One kind
    at a time (the arrays of the others wait): each identifier seen with two or more
    patients joins them to its first one; every account counts for its group."""
    edges_from, edges_to, owners = [], [], []
    public = np.zeros(0, dtype=np.int64)
    for kind in range(5):
        patient_array, node_array = found.pop(kind, (_EMPTY, _EMPTY))
        n, p = _distinct_pairs(node_array, patient_array)
        del patient_array, node_array
        starts, lengths = _runs(n)
        joining = lengths >= 2
        if kind == NETWORK:
            # Public networks (more than ``max_network_patients`` patients) join nobody.
            crowded = lengths > settings.max_network_patients
            public = n[starts[crowded]]
            joining &= ~crowded
        if kind == ACCOUNT:
            owners.append(p[starts])
        anchors = np.repeat(p[starts[joining]], lengths[joining])
        members = p[np.repeat(joining, lengths)]
        edges_from.append(members)
        edges_to.append(anchors)
    index = everyone  # sorted, unique: a patient's number is its place here
    a = np.searchsorted(index, np.concatenate(edges_from))
    b = np.searchsorted(index, np.concatenate(edges_to))
    labels = _components(a, b, len(index))
    sizes = np.bincount(labels, minlength=len(index))
    accounts = np.bincount(
        labels[np.searchsorted(index, np.concatenate(owners))], minlength=len(index)
    )
    roots = np.flatnonzero(sizes)
    big = sizes[roots] >= settings.min_ring_patients
    candidate = big & (
        (sizes[roots] > settings.family_size) | (accounts[roots] > settings.family_accounts)
    )
    chosen = index[np.isin(labels, roots[candidate])]
    return Grouped(
        patients=frozenset(int(h) for h in chosen),
        public_hashes=frozenset(int(node) for node in public),
        groups=int(big.sum()),
        candidates=int(candidate.sum()),
    )


def _distinct_pairs(nodes: np.ndarray, patients: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The (node, patient) pairs without repeats, sorted by node then patient."""
    order = np.lexsort((patients, nodes))
    n, p = nodes[order], patients[order]
    keep = np.ones(len(n), dtype=bool)
    keep[1:] = (n[1:] != n[:-1]) | (p[1:] != p[:-1])
    return n[keep], p[keep]


def _runs(sorted_values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start index and length of each run of equal values."""
    if len(sorted_values) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    starts = np.flatnonzero(np.r_[True, sorted_values[1:] != sorted_values[:-1]])
    lengths = np.diff(np.r_[starts, len(sorted_values)])
    return starts, lengths


def _components(a: np.ndarray, b: np.ndarray, count: int) -> np.ndarray:
    """Each of ``count`` items labelled with the smallest item of its connected component,
    over the edges (``a[i]``, ``b[i]``): minimum-label propagation with pointer jumping."""
    labels = np.arange(count, dtype=np.int64)
    if len(a) == 0:
        return labels
    while True:
        low = np.minimum(labels[a], labels[b])
        before = labels.copy()
        np.minimum.at(labels, labels[a], low)
        np.minimum.at(labels, labels[b], low)
        np.minimum.at(labels, a, low)
        np.minimum.at(labels, b, low)
        while True:
            jumped = labels[labels]
            if np.array_equal(jumped, labels):
                break
            labels = jumped
        if np.array_equal(labels, before):
            return labels
