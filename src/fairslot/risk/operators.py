"""Rules that link operators by what they do, not only by what they win. Pure: no I/O.

The booking rules (``rules.py``) see what an operator won. An operator who lost the draw,
was refused at the gate, or only waits on a waitlist still leaves traces: every acting
request (binding, hold, intent, waitlist join, payment), allowed or refused, is recorded
with its account, patient, device, network and payment account (``RequestFact``), and
every availability poll with its device (``PollFact``). These rules read those traces:

* **payment across accounts** — one payment account paying (or pre-authorising) for
  patients of several *different accounts*. A family pays for its members from one
  account; a hired wave's organiser or an identity-rotation operator pays for strangers
  in many.
* **device across accounts** — one device acting for patients of several different
  accounts: buyer-ID proxying (代挂, an operator booking buyers' real identities, each in
  the buyer's own account, from its own few devices) and grab software rotating its
  devices over its accounts. A family's tablet serves one account, maybe two.
* **availability polling** — a device polling availability at machine rate over a long
  stretch (a slot radar). Pace is measured from the server's own arrival times of the
  device's polls (the spacing of arrivals), never from how long answers took: a loaded
  server delays answers, not the arrival of the next poll from a script that does not
  wait for them.
* **blacklist reappearance** — an account whose patients (none blacklisted) act with the
  payment account, or the home Wi-Fi, of a blacklisted identity (blacklisted itself, or seen
  with a blacklisted patient's own requests): identity rotation comes back with fresh
  phones, devices and identities, but rarely with fresh money and a fresh home. A payment
  account is a strong link (it fires alone); a shared Wi-Fi is a household's too, so it
  needs a second new patient on it.

Each hit names its linking identifier as the entity and lists the accounts and patients it
ties together (``Hit.members``): a reviewer can block the people, not only the
identifier, and an operator that booked nothing is still blockable.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Hashable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from fairslot.risk.facts import BookingFact, RiskSettings
from fairslot.risk.linking import RequestFact
from fairslot.risk.rules import EntityKind, Hit, RuleName, Window


@dataclass(frozen=True, kw_only=True)
class PollFact:
    """A device's availability polls in the window: how many, first and last arrival."""

    device_key: str
    polls: int
    first_at: datetime
    last_at: datetime

    @property
    def mean_gap_seconds(self) -> float | None:
        """The mean spacing of arrivals; None for a single poll."""
        if self.polls < 2:
            return None
        return (self.last_at - self.first_at).total_seconds() / (self.polls - 1)


@dataclass(frozen=True, kw_only=True)
class Trace:
    """One patient acting through one account with one set of identifiers: a booking or a
    group of recorded requests, reduced to what the operator rules compare."""

    patient_key: str
    account_id: int | None
    device_key: str | None
    wifi_key: str | None
    payment_account_hash: str | None
    booking_id: str | None = None


def traces(
    *,
    bookings: Iterable[BookingFact],
    requests: Iterable[RequestFact],
    window: Window,
    staffed_channels: frozenset[int] = frozenset(),
) -> list[Trace]:
    """The window's bookings (by booking time) and request groups as traces.

    A booking or request made through a staffed channel (the registration window, the call
    centre) carries the hospital's terminal as its device: one terminal books for many
    strangers, so its device says nothing about who acts and is left out.
    """
    found = [
        Trace(
            patient_key=b.patient_key,
            account_id=b.account_id,
            device_key=None if b.channel_id in staffed_channels else b.device_key,
            wifi_key=b.wifi_key,
            payment_account_hash=b.payment_account_hash,
            booking_id=b.booking_id,
        )
        for b in bookings
        if window.contains(b.booked_at)
    ]
    found += [
        Trace(
            patient_key=r.patient_key,
            account_id=r.account_id,
            device_key=None if r.channel_id in staffed_channels else r.device_key,
            wifi_key=r.wifi_key,
            payment_account_hash=r.payment_account_hash,
        )
        for r in requests
    ]
    return found


def _members(group: Sequence[Trace]) -> tuple[tuple[EntityKind, str], ...]:
    accounts = sorted({t.account_id for t in group if t.account_id is not None})
    patients = sorted({t.patient_key for t in group})
    return (
        *((EntityKind.ACCOUNT, str(a)) for a in accounts),
        *((EntityKind.PATIENT, p) for p in patients),
    )


def _booking_ids(group: Sequence[Trace]) -> tuple[str, ...]:
    return tuple(sorted({t.booking_id for t in group if t.booking_id}))


def _across_accounts(
    found: Sequence[Trace],
    *,
    rule: RuleName,
    kind: EntityKind,
    key_of: str,
    accounts_needed: int,
    patients_needed: int,
    what: str,
) -> list[Hit]:
    groups: dict[str, list[Trace]] = defaultdict(list)
    for trace in found:
        key = getattr(trace, key_of)
        if key:
            groups[key].append(trace)
    hits = []
    for key, group in groups.items():
        accounts = {t.account_id for t in group if t.account_id is not None}
        patients = {t.patient_key for t in group}
        if len(accounts) < accounts_needed or len(patients) < patients_needed:
            continue
        hits.append(
            Hit(
                rule=rule,
                entity_kind=kind,
                entity_key=key,
                score=round(len(accounts) / accounts_needed, 2),
                booking_ids=_booking_ids(group),
                explanation=f"one {what} acted for {len(patients)} patients of "
                f"{len(accounts)} different accounts (threshold {accounts_needed} accounts)",
                figure=len(accounts),
                threshold=accounts_needed,
                members=_members(group),
            )
        )
    return hits


def payment_across_accounts(found: Sequence[Trace], *, settings: RiskSettings) -> list[Hit]:
    """One payment account paying for patients of several different accounts."""
    return _across_accounts(
        found,
        rule=RuleName.PAYMENT_ACROSS_ACCOUNTS,
        kind=EntityKind.PAYMENT_ACCOUNT,
        key_of="payment_account_hash",
        accounts_needed=settings.payment_accounts,
        patients_needed=settings.payment_patients,
        what="payment account",
    )


def device_across_accounts(found: Sequence[Trace], *, settings: RiskSettings) -> list[Hit]:
    """One device acting for patients of several different accounts (代挂, grab software)."""
    return _across_accounts(
        found,
        rule=RuleName.DEVICE_ACROSS_ACCOUNTS,
        kind=EntityKind.DEVICE,
        key_of="device_key",
        accounts_needed=settings.device_accounts,
        patients_needed=settings.device_accounts,
        what="device",
    )


def availability_polling(
    polls: Iterable[PollFact], found: Sequence[Trace], *, settings: RiskSettings
) -> list[Hit]:
    """Devices polling availability at machine rate: many polls, closely spaced arrivals.
    The accounts and patients the device acted for are its members."""
    by_device: dict[str, list[Trace]] = defaultdict(list)
    for trace in found:
        if trace.device_key:
            by_device[trace.device_key].append(trace)
    hits = []
    for poll in polls:
        gap = poll.mean_gap_seconds
        if poll.polls < settings.poll_count or gap is None or gap > settings.poll_mean_gap_seconds:
            continue
        group = by_device.get(poll.device_key, [])
        hits.append(
            Hit(
                rule=RuleName.AVAILABILITY_POLLING,
                entity_kind=EntityKind.DEVICE,
                entity_key=poll.device_key,
                score=round(poll.polls / settings.poll_count, 2),
                booking_ids=_booking_ids(group),
                explanation=f"{poll.polls} availability polls arriving {gap:.1f} s apart on "
                f"average over {(poll.last_at - poll.first_at).total_seconds() / 60:.0f} min "
                f"(threshold {settings.poll_count} polls at most "
                f"{settings.poll_mean_gap_seconds:g} s apart)",
                figure=poll.polls,
                threshold=settings.poll_count,
                members=_members(group),
            )
        )
    return hits


def blacklist_reappearance(
    found: Sequence[Trace],
    *,
    blacklisted_patients: Iterable[str],
    blacklisted_payments: Iterable[str] = (),
    blacklisted_networks: Iterable[str] = (),
    settings: RiskSettings,
) -> list[Hit]:
    """Accounts of patients who are not blacklisted acting with a payment account or a
    Wi-Fi that is blacklisted itself or came with a blacklisted patient's own traces.

    One hit per such account (the new identity is the subject: a reappearance must not be
    taken for the blacklisted operator's old, closed case), naming its patients. A payment
    account links from the first patient; a Wi-Fi, which a household shares, only once
    ``reappear_wifi_patients`` new patients are on it."""
    banned = set(blacklisted_patients)
    tainted = {
        "payment_account_hash": set(blacklisted_payments),
        "wifi_key": set(blacklisted_networks),
    }
    for trace in found:
        if trace.patient_key in banned:
            for key_of, keys in tainted.items():
                if value := getattr(trace, key_of):
                    keys.add(value)
    if not any(tainted.values()):
        return []
    fresh = [t for t in found if t.patient_key not in banned and t.account_id is not None]
    on_wifi: dict[str, set[str]] = defaultdict(set)
    for trace in fresh:
        if trace.wifi_key in tainted["wifi_key"]:
            on_wifi[trace.wifi_key].add(trace.patient_key)
    crowded = {
        w for w, patients in on_wifi.items() if len(patients) >= settings.reappear_wifi_patients
    }
    by_account: dict[int, list[Trace]] = defaultdict(list)
    paid: set[int] = set()
    for trace in fresh:
        assert trace.account_id is not None  # filtered above
        if trace.payment_account_hash in tainted["payment_account_hash"]:
            paid.add(trace.account_id)
            by_account[trace.account_id].append(trace)
        elif trace.wifi_key in crowded:
            by_account[trace.account_id].append(trace)
    hits = []
    for account_id, group in by_account.items():
        via = "payment account" if account_id in paid else "home Wi-Fi"
        patients = {t.patient_key for t in group}
        hits.append(
            Hit(
                rule=RuleName.BLACKLIST_REAPPEARANCE,
                entity_kind=EntityKind.ACCOUNT,
                entity_key=str(account_id),
                # A blacklisted operator's money is strong evidence; its Wi-Fi alone is
                # what its family shares.
                score=2.0 if account_id in paid else 1.0,
                booking_ids=_booking_ids(group),
                explanation=f"{len(patients)} patient(s) of this account, none blacklisted, "
                f"acted with the {via} of a blacklisted identity",
                figure=len(patients),
                threshold=1 if account_id in paid else settings.reappear_wifi_patients,
                members=_members(group),
            )
        )
    return hits


def run_operator_rules(
    *,
    bookings: Iterable[BookingFact],
    requests: Iterable[RequestFact],
    polls: Iterable[PollFact],
    blacklisted_patients: Iterable[str],
    blacklisted_payments: Iterable[str] = (),
    blacklisted_networks: Iterable[str] = (),
    window: Window,
    settings: RiskSettings,
    staffed_channels: frozenset[int] = frozenset(),
) -> list[Hit]:
    """Every operator rule over one window, in one order."""
    found = traces(
        bookings=bookings, requests=requests, window=window, staffed_channels=staffed_channels
    )
    hits = [
        *payment_across_accounts(found, settings=settings),
        *device_across_accounts(found, settings=settings),
        *availability_polling(polls, found, settings=settings),
        *blacklist_reappearance(
            found,
            blacklisted_patients=blacklisted_patients,
            blacklisted_payments=blacklisted_payments,
            blacklisted_networks=blacklisted_networks,
            settings=settings,
        ),
    ]
    return sorted(hits, key=lambda h: (h.rule, h.entity_kind, h.entity_key))


OPERATOR_RULES: frozenset[str] = frozenset(
    {
        RuleName.PAYMENT_ACROSS_ACCOUNTS,
        RuleName.DEVICE_ACROSS_ACCOUNTS,
        RuleName.AVAILABILITY_POLLING,
        RuleName.BLACKLIST_REAPPEARANCE,
    }
)


def operator_groups(node_sets: Sequence[Collection[Hashable]]) -> list[list[int]]:
    """Which operator alerts are about one operator: the indices of ``node_sets`` (each
    alert's entity and members) connected through a shared node, for every group of two
    or more alerts, in index order. One operator is then one case: the reviewer sees all it
    did at once, and a confirmation writes one small set of blocks."""
    parent = list(range(len(node_sets)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    owner: dict[Hashable, int] = {}
    for index, nodes in enumerate(node_sets):
        for node in nodes:
            if node in owner:
                a, b = root(owner[node]), root(index)
                parent[max(a, b)] = min(a, b)
            else:
                owner[node] = index
    groups: dict[int, list[int]] = defaultdict(list)
    for index in range(len(node_sets)):
        groups[root(index)].append(index)
    return [group for _, group in sorted(groups.items()) if len(group) > 1]
