"""Which identifiers a reviewer may block for a case, and the key each is stored under.

Pure: no database, no web. The review service loads the case's alerts, the bookings
behind them and the people involved, masks every personal identifier, and hands them
here as plain facts. :func:`derive` returns one :class:`Candidate` per distinct
(scope, key), with a masked label and where it was seen.

Keys are the ones the real-time gate looks up (``blacklist/gate.py::check``): patient →
the patient's ``id_hash``; phone → ``phone_hash``; account → ``account:<id>``; device →
keyed hash of the device id (purpose ``device``); network → keyed hash of the IP address
or Wi-Fi id (purpose ``network``); payment → ``payment_account_hash``. A candidate whose
key differed from the gate's would block nothing, so the gate's spelling is the one used.

Where a candidate comes from:

* the case's subject and every alert's entity (``entity_kind`` / ``entity_key`` as the
  risk rules write them: hashes for patients, phones and payment accounts, the raw
  device id, ``ip:<addr>`` or ``wifi:<id>`` for networks, the account id);
* every identifier of every booking behind the alerts (its patient and that patient's
  phone, its account and the account's login phone, device, IP, Wi-Fi, payment account);
* for a ring alert, the members listed in its ``details`` (see :func:`ring_members`).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Protocol

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
    device_id: str | None
    ip: str | None
    wifi_id: str | None
    payment_account_hash: str | None
    payment_account_masked: str | None


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


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def network_value(key: str) -> str:
    """The address or Wi-Fi id of a risk rule's network key (``ip:<addr>``, ``wifi:<id>``);
    ring members carry the bare value."""
    for prefix in ("ip:", "wifi:"):
        if key.startswith(prefix):
            return key.removeprefix(prefix)
    return key


def ring_members(details: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The (kind, value) members of a ring alert's ``details``.

    Read from ``members``, a list of ``[kind, value]`` pairs (``risk.rings.Ring.members``),
    and from ``patients``, ``accounts`` (lists of values) and ``identifiers`` (a mapping or
    a list of ``[kind, [values]]``, as ``Ring.identifiers``). Anything else is ignored:
    the bookings behind the alert give the candidates too.
    """
    found: list[tuple[str, str]] = []
    members = details.get("members")
    if isinstance(members, list):
        for item in members:
            if isinstance(item, list | tuple) and len(item) == 2:
                found.append((str(item[0]), str(item[1])))
    for kind, key in (("patient", "patients"), ("account", "accounts")):
        values = details.get(key)
        if isinstance(values, list):
            found.extend((kind, str(v)) for v in values)
    identifiers = details.get("identifiers")
    pairs: Iterable[Any] = ()
    if isinstance(identifiers, Mapping):
        pairs = identifiers.items()
    elif isinstance(identifiers, list):
        pairs = identifiers
    for pair in pairs:
        if isinstance(pair, list | tuple) and len(pair) == 2 and isinstance(pair[1], list):
            found.extend((str(pair[0]), str(v)) for v in pair[1])
    return found


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

    def entity(self, kind: str, value: str, fallback: str, source: str) -> None:
        """A risk entity or a ring member, by its kind and value."""
        scope = _SCOPE_OF_KIND.get(kind)
        if scope is None or not value:
            return
        if scope == "patient":
            person = self._by_id_hash.get(value)
            self.add(scope, value, person.id_masked if person else fallback, source)
        elif scope == "phone":
            self.add(scope, value, self._phones.get(value, fallback), source)
        elif scope == "account":
            self.add(scope, f"account:{value}", f"account {value}", source)
        elif scope == "device":
            self.device(value, source)
        elif scope == "network":
            bare = network_value(value)
            self.network(bare, source, wifi=value.startswith("wifi:") or not _is_ip(bare))
        else:
            self.add(scope, value, self._payments.get(value, fallback), source)

    def device(self, device_id: str, source: str) -> None:
        self.add(
            "device", self._hash(device_id, purpose="device"), mask_identifier(device_id), source
        )

    def network(self, value: str, source: str, *, wifi: bool) -> None:
        label = ("wifi " if wifi else "ip ") + mask_identifier(value)
        self.add("network", self._hash(value, purpose="network"), label, source)

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
        for kind, value in ring_members(alert.details):
            out.entity(kind, value, mask_identifier(value), f"{source} (ring member)")
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
        if booking.device_id:
            out.device(booking.device_id, source)
        if booking.ip:
            out.network(booking.ip, source, wifi=False)
        if booking.wifi_id:
            out.network(booking.wifi_id, source, wifi=True)
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
