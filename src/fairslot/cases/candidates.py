"""Which identifiers a reviewer may block for a case, and the key each is stored under.

Pure: no database, no web. The review service loads the case's alerts, the bookings
behind them and the people involved, masks every personal identifier, and hands them
here as plain facts. :func:`derive` returns one :class:`Candidate` per distinct
(scope, key), with a masked label and where it was seen.

Keys are the ones the real-time gate looks up (``blacklist/gate.py::check``): patient →
the patient's ``id_hash``; phone → ``phone_hash``; account → ``account:<id>``; device →
the keyed hash of the device id (purpose ``device``); network → the keyed hash of the IP
address or Wi-Fi id (purpose ``network``), both stored so by the rows themselves
(``context.py``); payment → ``payment_account_hash``. A candidate whose
key differed from the gate's would block nothing, so the gate's spelling is the one used.

Where a candidate comes from:

* the case's subject and every alert's entity: the batch stores them under the key a
  blacklist entry would have (``risk/alerts.py::entity``: the patient's ``id_hash``,
  ``account:<id>``, the phone or payment hash, the keyed hash of a device or network)
  with a masked label, so they are taken as they are and never hashed again;
* every identifier of every booking behind the alerts (its patient and that patient's
  phone, its account and the account's login phone, device, IP, Wi-Fi, payment account);
* for a ring alert, the members listed in its ``details`` (see :func:`ring_members`),
  stored keys too: a ring of identities that booked nothing is still blockable.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Protocol

from fairslot.context import short_key
from fairslot.patients.identity import mask_identifier

# The blacklist's scopes (``blacklist.models.Scope`` values), in the order a reviewer
# reads them. Kept as strings so this module imports no database code.
SCOPES: Final = ("patient", "phone", "account", "device", "network", "payment")

# Risk entity kind (``risk.rules.EntityKind``) and ring node kind → blacklist scope.
_SCOPE_OF_KIND: Final = {
    "patient": "patient",
    "phone": "phone",
    "account": "account",
    "device": "device",
    "network": "network",
    "payment_account": "payment",
    "payment": "payment",
}


class KeyedHash(Protocol):
    """``Protector.keyed_hash``: the platform's HMAC of a value for one purpose."""

    def __call__(self, value: str, *, purpose: str) -> str: ...


@dataclass(frozen=True, kw_only=True)
class PersonFacts:
    """A patient as the reviewer may see it: keys, and labels already masked."""

    patient_id: int
    id_hash: str
    phone_hash: str
    id_masked: str
    phone_masked: str


@dataclass(frozen=True, kw_only=True)
class AccountFacts:
    account_id: int
    phone_hash: str
    phone_masked: str


@dataclass(frozen=True, kw_only=True)
class BookingFacts:
    booking_id: str
    patient_id: int
    account_id: int
    device_key: str | None
    ip_key: str | None
    wifi_key: str | None
    payment_account_hash: str | None
    payment_account_masked: str | None
    ip_label: str | None = None


@dataclass(frozen=True, kw_only=True)
class AlertFacts:
    alert_id: int
    entity_kind: str
    entity_key: str
    entity_label: str
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class CaseFacts:
    subject_kind: str
    subject_key: str
    subject_label: str
    alerts: Sequence[AlertFacts] = ()
    bookings: Sequence[BookingFacts] = ()
    people: Sequence[PersonFacts] = ()
    accounts: Sequence[AccountFacts] = ()
    # Payment-account hash → a masked spelling (from any booking paid with it).
    payments: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Candidate:
    scope: str
    key: str
    label: str
    sources: tuple[str, ...]


def ring_members(details: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The (kind, stored key) members of a ring alert's ``details``; see :func:`ring_entries`."""
    return [(kind, key) for kind, key, _ in ring_entries(details)]


def ring_entries(details: Mapping[str, Any]) -> list[tuple[str, str, str | None]]:
    """The (kind, stored key, masked label) members of a ring alert's ``details``.

    Read from ``patients`` and ``accounts`` (lists) and ``identifiers`` (a mapping of kind
    to list, or a list of ``[kind, [values]]``), whose items are ``{"key", "label"}``
    objects as ``risk/alerts.py::ring_alert`` writes them, or bare keys; and from
    ``members``, ``[kind, key]`` pairs. Anything else is ignored: the bookings behind the
    alert give the candidates too.
    """
    found: list[tuple[str, str, str | None]] = []
    members = details.get("members")
    if isinstance(members, list):
        for item in members:
            if isinstance(item, list | tuple) and len(item) == 2:
                found.append((str(item[0]), str(item[1]), None))
    for kind, name in (("patient", "patients"), ("account", "accounts")):
        values = details.get(name)
        if isinstance(values, list):
            found.extend(_entries(kind, values))
    identifiers = details.get("identifiers")
    pairs: Iterable[Any] = ()
    if isinstance(identifiers, Mapping):
        pairs = identifiers.items()
    elif isinstance(identifiers, list):
        pairs = identifiers
    for pair in pairs:
        if isinstance(pair, list | tuple) and len(pair) == 2 and isinstance(pair[1], list):
            found.extend(_entries(str(pair[0]), pair[1]))
    return found


def _entries(kind: str, values: Iterable[Any]) -> Iterator[tuple[str, str, str | None]]:
    for value in values:
        if isinstance(value, Mapping) and value.get("key"):
            label = value.get("label")
            yield kind, str(value["key"]), str(label) if label else None
        elif isinstance(value, str | int) and not isinstance(value, bool) and str(value):
            yield kind, str(value), None


def account_id_of(key: str) -> int | None:
    """The account id of an account key (``account:<id>``, or a bare id)."""
    bare = key.removeprefix("account:")
    return int(bare) if bare.isdigit() else None


class _Collector:
    def __init__(self, facts: CaseFacts, keyed_hash: KeyedHash) -> None:
        self._hash = keyed_hash
        self._found: dict[tuple[str, str], tuple[str, list[str]]] = {}
        self._by_id_hash = {p.id_hash: p for p in facts.people}
        self._phones = {p.phone_hash: p.phone_masked for p in facts.people}
        self._phones.update({a.phone_hash: a.phone_masked for a in facts.accounts})
        self._payments = dict(facts.payments)

    def add(self, scope: str, key: str, label: str, source: str) -> None:
        label, sources = self._found.setdefault((scope, key), (label, []))
        if source not in sources:
            sources.append(source)

    def entity(self, kind: str, key: str, fallback: str, source: str) -> None:
        """A risk entity or a ring member, by its kind and stored key."""
        scope = _SCOPE_OF_KIND.get(kind)
        if scope is None or not key:
            return
        if scope == "patient":
            person = self._by_id_hash.get(key)
            self.add(scope, key, person.id_masked if person else fallback, source)
        elif scope == "phone":
            self.add(scope, key, self._phones.get(key, fallback), source)
        elif scope == "account":
            account_id = account_id_of(key)
            if account_id is not None:
                self.add(scope, f"account:{account_id}", f"account {account_id}", source)
        elif scope == "payment":
            self.add(scope, key, self._payments.get(key, fallback), source)
        else:  # device, network: the keyed hash, labelled by the alert
            self.add(scope, key, fallback, source)

    def device(self, device_key: str, source: str) -> None:
        # Stored as the blacklist key already (``context.py``): no second hash.
        self.add("device", device_key, f"device {short_key(device_key)}", source)

    def network(self, key: str, source: str, *, label: str | None, wifi: bool) -> None:
        shown = label or short_key(key)
        self.add("network", key, ("wifi " if wifi else "ip ") + shown, source)

    def result(self) -> list[Candidate]:
        order = {scope: i for i, scope in enumerate(SCOPES)}
        return sorted(
            (
                Candidate(scope=scope, key=key, label=label, sources=tuple(sources))
                for (scope, key), (label, sources) in self._found.items()
            ),
            key=lambda c: (order[c.scope], c.label, c.key),
        )


def derive(facts: CaseFacts, *, keyed_hash: KeyedHash) -> list[Candidate]:
    """Every identifier of the case a reviewer may block, one per (scope, key), sorted by
    scope (``SCOPES`` order) then label."""
    out = _Collector(facts, keyed_hash)
    out.entity(facts.subject_kind, facts.subject_key, facts.subject_label, "case subject")
    for alert in facts.alerts:
        source = f"alert {alert.alert_id}"
        out.entity(alert.entity_kind, alert.entity_key, alert.entity_label, source)
        for kind, key, label in ring_entries(alert.details):
            out.entity(kind, key, label or mask_identifier(key), f"{source} (ring member)")
    people = {p.patient_id: p for p in facts.people}
    accounts = {a.account_id: a for a in facts.accounts}
    for booking in facts.bookings:
        source = f"booking {booking.booking_id[:8]}"
        person = people.get(booking.patient_id)
        if person is not None:
            out.add("patient", person.id_hash, person.id_masked, source)
            out.add("phone", person.phone_hash, person.phone_masked, source)
        out.add("account", f"account:{booking.account_id}", f"account {booking.account_id}", source)
        account = accounts.get(booking.account_id)
        if account is not None:
            out.add("phone", account.phone_hash, account.phone_masked, f"{source} (login)")
        if booking.device_key:
            out.device(booking.device_key, source)
        if booking.ip_key:
            out.network(booking.ip_key, source, label=booking.ip_label, wifi=False)
        if booking.wifi_key:
            out.network(booking.wifi_key, source, label=None, wifi=True)
        if booking.payment_account_hash:
            label = booking.payment_account_masked or "payment ***"
            out.add("payment", booking.payment_account_hash, label, source)
    return out.result()


def patients_to_call(facts: CaseFacts) -> list[int]:
    """The patients customer service should call about a case, by patient id: those of its
    bookings, and any patient the case names (as its subject, an alert's entity or a ring
    member) by resident-ID key or phone."""
    named: set[tuple[str, str]] = {(facts.subject_kind, facts.subject_key)}
    for alert in facts.alerts:
        named.add((alert.entity_kind, alert.entity_key))
        named.update(ring_members(alert.details))
    ids = {b.patient_id for b in facts.bookings}
    ids.update(
        p.patient_id
        for p in facts.people
        if ("patient", p.id_hash) in named or ("phone", p.phone_hash) in named
    )
    return sorted(ids)
