"""Screening a draw's entrants before the draw. Pure: no database, no web.

The intent window is time to look at who entered. :func:`screen` takes one
:class:`EntrantFacts` per entry (what the platform knows of the intent, its account and its
patient, all as keyed hashes) and returns one :class:`Decision` per entry: held out of the
draw for review, or not, with the reason codes a reviewer sees.

Why these rules, and why a family never crosses them:

* **Decisive** signals hold an entry on their own: a blacklist entry in force
  (``blacklisted``), an open review case on the patient or one of the entry's identifiers
  (``open_case``), and a **ring** among the entrants. Rings are the connected components of a
  graph whose nodes are the entries and what they were made with (account, device, payment
  account, network); a component is a ring when one device or one payment account serves
  entries of more accounts than a household uses (``ring_shared_device``,
  ``ring_shared_payment``), when a device or payment account pays for more patients than a
  household has, or when a device or payment account crosses accounts and the component
  enters more patients than a household has (``ring_size``: accounts tied by what they
  share are one household at most, whatever the number of accounts). An account entering
  more patients than a household has is held too (``account_fanout``).
* **Networks** glue a component but never hold anyone by themselves: a household shares its
  home network, and a *public* address (a carrier's NAT, a hospital's Wi-Fi) is shared by
  many unrelated people. A network seen with more than ``public_network_patients`` entrants,
  or known to be public from the platform's history, is left out of the graph altogether,
  so it cannot glue strangers into a ring; a private network shared by held members is
  named (``ring_shared_network``) so the reviewer sees it.
* **Supporting** signals (``binding_burst``: the account bound more patients within an
  hour than a household has; ``fast_pace``: the intent came seconds after the patient was
  bound; ``no_history``: a new patient with no booking ever) are each common among honest
  people, so an entry is held for them only when ``supporting_needed`` (all three) come
  together: a prepared identity bound in a batch and entered by software.

A family — one account booking for itself and two to four relatives from one phone, one
device, one home network and one payment account — is one account, at most five patients,
and crosses no account boundary: no threshold below is reached.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Final

import networkx as nx  # type: ignore[import-untyped, unused-ignore]

# -- reason codes (stable: stored on intents, shown to reviewers) ------------------------

BLACKLISTED: Final = "blacklisted"
OPEN_CASE: Final = "open_case"
RING_SHARED_DEVICE: Final = "ring_shared_device"
RING_SHARED_PAYMENT: Final = "ring_shared_payment"
RING_SHARED_NETWORK: Final = "ring_shared_network"
RING_SIZE: Final = "ring_size"
ACCOUNT_FANOUT: Final = "account_fanout"
BINDING_BURST: Final = "binding_burst"
FAST_PACE: Final = "fast_pace"
NO_HISTORY: Final = "no_history"

DECISIVE: Final = frozenset(
    {BLACKLISTED, OPEN_CASE, RING_SHARED_DEVICE, RING_SHARED_PAYMENT, RING_SIZE, ACCOUNT_FANOUT}
)
SUPPORTING: Final = frozenset({BINDING_BURST, FAST_PACE, NO_HISTORY})
RING_REASONS: Final = frozenset(
    {RING_SHARED_DEVICE, RING_SHARED_PAYMENT, RING_SHARED_NETWORK, RING_SIZE}
)

# What the published draw record says of an entry held for review: the patient and the
# public learn that it was held, never what was detected.
PUBLIC_HELD: Final = "held_for_review"

_ENTRY: Final = "entry"
_ACCOUNT: Final = "account"
_DEVICE: Final = "device"
_NETWORK: Final = "network"
_PAYMENT: Final = "payment"


@dataclass(frozen=True)
class ScreeningSettings:
    """Thresholds; each default is set so that a family (one account, up to five
    patients, one device, one network, one payment account) stays clear of it.

    * ``household_accounts`` (2): a household uses up to this many accounts; a device or
      payment account serving entries of more accounts is a ring.
    * ``household_patients`` (5): one account books for itself and up to four relatives;
      more patients on one account, device or payment account is a ring.
    * ``public_network_patients`` (8): a network seen with more entrants than this is
      public and left out of the graph.
    * ``burst_bindings`` (6) within ``burst_window`` (1 h): an account binding this many
      patients that fast is a supporting signal (a family binds itself and up to four
      relatives, five in all, often in one sitting).
    * ``fast_pace`` (5 s): an intent this soon after the patient was bound to the account
      is a supporting signal (a person reads and fills the form in longer).
    * ``new_patient_age`` (7 days): a patient registered this recently with no booking
      ever has no history (a supporting signal).
    * ``supporting_needed`` (3): supporting signals that together hold an entry. A new
      patient bound and entered at once is a newcomer in a hurry as often as a prepared
      identity; only with a binding burst on the same account is it held.
    """

    household_accounts: int = 2
    household_patients: int = 5
    public_network_patients: int = 8
    burst_bindings: int = 6
    burst_window: timedelta = timedelta(hours=1)
    fast_pace: timedelta = timedelta(seconds=5)
    new_patient_age: timedelta = timedelta(days=7)
    supporting_needed: int = 3


@dataclass(frozen=True, kw_only=True)
class EntrantFacts:
    """One entry of a draw as screening sees it. Identifiers are keyed hashes (or the
    account id); ``None`` means not recorded."""

    intent_id: str
    patient_key: str
    account_id: int
    device_key: str | None = None
    ip_key: str | None = None
    wifi_key: str | None = None
    payment_key: str | None = None
    entered_at: datetime
    bound_at: datetime | None = None  # when the patient was bound to this account
    account_bindings: Sequence[datetime] = ()  # every binding time of the account
    patient_since: datetime | None = None  # the patient's registration
    past_bookings: int = 0
    blacklisted: bool = False
    open_cases: Sequence[int] = ()  # ids of open cases on the patient or an identifier


@dataclass(frozen=True)
class Decision:
    intent_id: str
    held: bool
    reasons: tuple[str, ...] = ()  # sorted; also the supporting signals when not held
    ring: str | None = None  # the ring's id (its sorted entry ids, digested) when in one
    case_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class Ring:
    """A held component: its entries and the identifiers that joined them."""

    ring_id: str
    intent_ids: tuple[str, ...]
    reasons: tuple[str, ...]
    accounts: int
    patients: int
    # The devices and payment accounts that tie the ring together beyond a household, as
    # ``(kind, key)`` with kind ``device`` or ``payment`` (see :func:`witnesses`).
    witnesses: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Screening:
    decisions: Mapping[str, Decision]
    rings: Sequence[Ring] = field(default_factory=tuple)
    public_networks: frozenset[str] = frozenset()

    @property
    def held(self) -> dict[str, tuple[str, ...]]:
        """Held entry id -> its reason codes."""
        return {i: d.reasons for i, d in self.decisions.items() if d.held}


def screen(
    entrants: Sequence[EntrantFacts],
    *,
    now: datetime,
    settings: ScreeningSettings = ScreeningSettings(),
    known_public_networks: Iterable[str] = (),
) -> Screening:
    """Every entry's decision. Deterministic: the same facts give the same decisions,
    whatever their order."""
    if len({e.intent_id for e in entrants}) != len(entrants):
        raise ValueError("an entry appears twice")
    public = public_networks(entrants, settings=settings, known=known_public_networks)
    reasons: dict[str, set[str]] = {e.intent_id: set() for e in entrants}
    ring_of: dict[str, str] = {}
    found_rings = []
    for ring in rings(entrants, settings=settings, public=public):
        found_rings.append(ring)
        for intent_id in ring.intent_ids:
            reasons[intent_id].update(ring.reasons)
            ring_of[intent_id] = ring.ring_id
    for intent_id in account_fanout(entrants, settings=settings):
        reasons[intent_id].add(ACCOUNT_FANOUT)
    for entrant in entrants:
        reasons[entrant.intent_id].update(own_signals(entrant, now=now, settings=settings))
    decisions = {}
    for entrant in sorted(entrants, key=lambda e: e.intent_id):
        found = reasons[entrant.intent_id]
        held = bool(found & DECISIVE) or len(found & SUPPORTING) >= settings.supporting_needed
        decisions[entrant.intent_id] = Decision(
            intent_id=entrant.intent_id,
            held=held,
            reasons=tuple(sorted(found)),
            ring=ring_of.get(entrant.intent_id),
            case_ids=tuple(sorted(set(entrant.open_cases))),
        )
    return Screening(decisions=decisions, rings=tuple(found_rings), public_networks=public)


def own_signals(entrant: EntrantFacts, *, now: datetime, settings: ScreeningSettings) -> set[str]:
    """The signals an entry carries on its own (not through other entries)."""
    found = set()
    if entrant.blacklisted:
        found.add(BLACKLISTED)
    if entrant.open_cases:
        found.add(OPEN_CASE)
    if burst(entrant.account_bindings, window=settings.burst_window) >= settings.burst_bindings:
        found.add(BINDING_BURST)
    if entrant.bound_at is not None and (
        timedelta(0) <= entrant.entered_at - entrant.bound_at < settings.fast_pace
    ):
        found.add(FAST_PACE)
    new = entrant.patient_since is None or now - entrant.patient_since < settings.new_patient_age
    if entrant.past_bookings == 0 and new:
        found.add(NO_HISTORY)
    return found


def burst(times: Sequence[datetime], *, window: timedelta) -> int:
    """The most events within any ``window`` (inclusive) among ``times``."""
    ordered = sorted(times)
    best, start = 0, 0
    for end, at in enumerate(ordered):
        while at - ordered[start] > window:
            start += 1
        best = max(best, end - start + 1)
    return best


def public_networks(
    entrants: Sequence[EntrantFacts], *, settings: ScreeningSettings, known: Iterable[str] = ()
) -> frozenset[str]:
    """Networks shared by more entrants (distinct patients) than a private network could
    be, plus those the platform's history already knows as public."""
    patients: dict[str, set[str]] = {}
    for entrant in entrants:
        for key in {entrant.ip_key, entrant.wifi_key} - {None, ""}:
            assert key is not None
            patients.setdefault(key, set()).add(entrant.patient_key)
    crowded = {k for k, p in patients.items() if len(p) > settings.public_network_patients}
    return frozenset(crowded | set(known))


def account_fanout(entrants: Sequence[EntrantFacts], *, settings: ScreeningSettings) -> set[str]:
    """Entries of accounts that entered more patients than a household has."""
    by_account: dict[int, set[str]] = {}
    for entrant in entrants:
        by_account.setdefault(entrant.account_id, set()).add(entrant.patient_key)
    return {
        e.intent_id for e in entrants if len(by_account[e.account_id]) > settings.household_patients
    }


def rings(
    entrants: Sequence[EntrantFacts], *, settings: ScreeningSettings, public: frozenset[str]
) -> list[Ring]:
    """The held components of the entrants' graph, by ring id."""
    graph = nx.Graph()
    by_id = {e.intent_id: e for e in entrants}
    for entrant in entrants:
        node = (_ENTRY, entrant.intent_id)
        graph.add_node(node)
        for other in _identifiers(entrant, public=public):
            graph.add_edge(node, other)
    found = []
    for component in nx.connected_components(graph):
        members = sorted(v for kind, v in component if kind == _ENTRY)
        if len(members) < 2:
            continue
        reasons = _ring_reasons(graph, [by_id[m] for m in members], settings=settings)
        if reasons & (DECISIVE - {ACCOUNT_FANOUT}):
            found.append(
                Ring(
                    ring_id=ring_id(members),
                    intent_ids=tuple(members),
                    reasons=tuple(sorted(reasons)),
                    accounts=len({by_id[m].account_id for m in members}),
                    patients=len({by_id[m].patient_key for m in members}),
                    witnesses=witnesses([by_id[m] for m in members], settings=settings),
                )
            )
    return sorted(found, key=lambda r: r.ring_id)


def witnesses(
    members: Sequence[EntrantFacts], *, settings: ScreeningSettings
) -> tuple[tuple[str, str], ...]:
    """The ring's witnesses, as ``(kind, key)``: each device or payment account that is
    evidence on its own that the people behind the ring are tied beyond a household —

    * it serves entries of more accounts, or of more patients, than a household has; or
    * it crosses accounts, and the entries it is tied to through devices and payment
      accounts alone (networks left out: a household shares its home network with
      whoever glues onto it) enter more patients than a household has.

    An operator rotating three phones over two accounts and eight patients leaves three; a
    couple's tablet and card, glued to a ring by a shared home network, none. Sorted by
    kind, then key."""
    strong = nx.Graph()
    for member in members:
        node = (_ENTRY, member.intent_id)
        strong.add_node(node)
        for kind in (_DEVICE, _PAYMENT):
            if (key := _key_of(member, kind)) is not None:
                strong.add_edge(node, (kind, key))
    by_id = {m.intent_id: m for m in members}
    found = []
    for kind in (_DEVICE, _PAYMENT):
        keys = {key for m in members if (key := _key_of(m, kind)) is not None}
        for key in sorted(keys):
            users = [m for m in members if _key_of(m, kind) == key]
            accounts = len({m.account_id for m in users})
            patients = len({m.patient_key for m in users})
            if accounts > settings.household_accounts or patients > settings.household_patients:
                found.append((kind, key))
                continue
            tied = nx.node_connected_component(strong, (kind, key))
            reach = {by_id[v].patient_key for k, v in tied if k == _ENTRY}
            if accounts > 1 and len(reach) > settings.household_patients:
                found.append((kind, key))
    return tuple(found)


def ring_id(intent_ids: Iterable[str]) -> str:
    """A ring's id: the first 16 hex digits of SHA-256 of its sorted entry ids."""
    text = ",".join(sorted(intent_ids))
    return "screen-" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _identifiers(entrant: EntrantFacts, *, public: frozenset[str]) -> list[tuple[str, str]]:
    found = [(_ACCOUNT, str(entrant.account_id))]
    if entrant.device_key:
        found.append((_DEVICE, entrant.device_key))
    if entrant.payment_key:
        found.append((_PAYMENT, entrant.payment_key))
    for key in (entrant.ip_key, entrant.wifi_key):
        if key and key not in public:
            found.append((_NETWORK, key))
    return found


def _ring_reasons(
    graph: nx.Graph, members: Sequence[EntrantFacts], *, settings: ScreeningSettings
) -> set[str]:
    """Why a component of two or more entries is a ring (empty: it is not)."""
    reasons = set()
    widest = 1  # the most accounts one device or payment account serves
    for kind, code in ((_DEVICE, RING_SHARED_DEVICE), (_PAYMENT, RING_SHARED_PAYMENT)):
        for key in {_key_of(m, kind) for m in members} - {None}:
            users = [m for m in members if _key_of(m, kind) == key]
            accounts = len({m.account_id for m in users})
            patients = len({m.patient_key for m in users})
            widest = max(widest, accounts)
            if accounts > settings.household_accounts or patients > settings.household_patients:
                reasons.add(code)
    patients = len({m.patient_key for m in members})
    if widest > 1 and patients > settings.household_patients:
        # Accounts tied by a device or payment account they share are one household at
        # most; together they enter no more patients than a household has.
        reasons.add(RING_SIZE)
    if reasons and any(
        kind == _NETWORK and graph.degree(node) > 1
        for node in graph.nodes
        for kind, key in [node]
        if any(key in (m.ip_key, m.wifi_key) for m in members)
    ):
        reasons.add(RING_SHARED_NETWORK)
    return reasons


def _key_of(entrant: EntrantFacts, kind: str) -> str | None:
    return entrant.device_key if kind == _DEVICE else entrant.payment_key
