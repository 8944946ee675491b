"""Rules that link operators by what they do, not only by what they win. Pure: no I/O.

The booking rules (``rules.py``) see what an operator won. An operator who lost the draw,
was refused at the gate, or only waits on a waitlist still leaves traces: every acting
request (binding, hold, intent, waitlist join, payment), allowed or refused, is recorded
with its account, patient, device, network and payment account (``RequestFact``), and
every availability poll with its device (``PollFact``). These rules read those traces:

* **payment across accounts** — one payment account paying (or pre-authorising) for
  patients of several *different accounts*. A family pays for its members from one
  account; a hired wave's organiser or an identity-rotation operator pays for strangers
  in many. Where the money bought *chances at scarce slots* — draw entries and waitlist
  places (``ScarceEntry``) — for patients of more accounts than one person and both
  parents hold (``SCARCE_FUNDING_ACCOUNTS``), the hit weighs double: the draw gives one
  chance per person, and one purse buying chances for strangers is a hired wave.
* **device across accounts** — one device acting for patients of several different
  accounts (buyer-ID proxying, 代挂: an operator booking buyers' real identities, each in
  the buyer's own account, from its own few devices), or for more patients than a
  household (``shared_device_patients``, the paper's "more than 5"): grab software
  rotating its devices over a few accounts of four prepared identities each. A family's
  tablet serves one account of at most four patients, maybe a second account.
* **availability polling** — a device, or the devices that acted for one account,
  polling availability at machine rate over a long stretch (a slot radar). A radar that
  rotates its devices does not split its count: the devices of one account are pooled.
  Pace is measured from the server's own arrival times of the polls (the spacing of
  arrivals), never from how long answers took: a loaded server delays answers, not the
  arrival of the next poll from a script that does not wait for them.
* **machine pace** — one device sending acting requests (holds, draw entries, waitlist
  joins) for patients of two or more accounts, three or more of them arriving within
  ``HUMAN_STEP_SECONDS``: nobody switches accounts and fills a form for each that fast,
  so it is a script firing in parallel (a family's one-tap entry of all its members is
  one account's, and not counted). Measured from the requests' arrival times at the
  edge (``ActFact``), which a loaded server neither stretches nor bunches.
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
from dataclasses import dataclass, replace
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
class ScarceEntry:
    """A chance at a scarce slot bought with a payment account: a draw entry (intent) or a
    waitlist place, allowed or refused, for one patient of one account."""

    payment_account_hash: str
    account_id: int
    patient_key: str


# More accounts than one person and both parents (each with an account of their own) hold:
# a payment account buying scarce chances for patients of this many accounts is buying
# them for strangers.
SCARCE_FUNDING_ACCOUNTS = 4


@dataclass(frozen=True, kw_only=True)
class ActFact:
    """One acting request (hold, draw entry, waitlist join) with its arrival time."""

    at: datetime
    account_id: int | None
    device_key: str | None
    patient_key: str


# A person needs at least this long for one step of a booking (the gate's fastest human
# payment, ``velocity_min_confirm_seconds``; genuine patients take 3-5 s a step)...
HUMAN_STEP_SECONDS = 3.0
# ...so this many acting requests inside one such step, for two or more accounts, is a
# script (two is a double tap).
PACE_BURST = 3


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


def _by(found: Sequence[Trace], key_of: str) -> dict[str, list[Trace]]:
    groups: dict[str, list[Trace]] = defaultdict(list)
    for trace in found:
        if key := getattr(trace, key_of):
            groups[key].append(trace)
    return groups


def _accounts(group: Sequence[Trace]) -> set[int]:
    return {t.account_id for t in group if t.account_id is not None}


def payment_across_accounts(
    found: Sequence[Trace],
    *,
    settings: RiskSettings,
    scarce_entries: Iterable[ScarceEntry] = (),
) -> list[Hit]:
    """One payment account paying for patients of several different accounts; double
    weight where it bought scarce chances (draw entries, waitlist places) for patients of
    at least ``SCARCE_FUNDING_ACCOUNTS`` accounts."""
    funded: dict[str, set[int]] = defaultdict(set)
    for entry in scarce_entries:
        funded[entry.payment_account_hash].add(entry.account_id)
    needed = settings.payment_accounts
    hits = []
    for key, group in _by(found, "payment_account_hash").items():
        accounts = _accounts(group)
        patients = {t.patient_key for t in group}
        if len(accounts) < needed or len(patients) < settings.payment_patients:
            continue
        scarce = len(funded.get(key, set()) & accounts)
        weight = 2 if scarce >= SCARCE_FUNDING_ACCOUNTS else 1
        explanation = (
            f"one payment account paid for {len(patients)} patients of {len(accounts)} "
            f"different accounts (threshold {needed} accounts)"
        )
        if weight > 1:
            explanation += (
                f"; it bought draw entries or waitlist places for patients of {scarce} "
                f"accounts (one chance per person: more accounts than a person and both "
                f"parents hold, {SCARCE_FUNDING_ACCOUNTS}, weigh double)"
            )
        hits.append(
            Hit(
                rule=RuleName.PAYMENT_ACROSS_ACCOUNTS,
                entity_kind=EntityKind.PAYMENT_ACCOUNT,
                entity_key=key,
                score=round(weight * len(accounts) / needed, 2),
                booking_ids=_booking_ids(group),
                explanation=explanation,
                figure=len(accounts),
                threshold=needed,
                members=_members(group),
            )
        )
    return hits


def device_across_accounts(found: Sequence[Trace], *, settings: RiskSettings) -> list[Hit]:
    """One device acting for patients of several different accounts (代挂), or for more
    patients than a household (grab software rotating its devices over a few accounts)."""
    accounts_needed, household = settings.device_accounts, settings.shared_device_patients
    hits = []
    for key, group in _by(found, "device_key").items():
        accounts = _accounts(group)
        patients = {t.patient_key for t in group}
        many_accounts = len(accounts) >= accounts_needed
        many_patients = len(patients) > household
        if not (many_accounts or many_patients):
            continue
        # Scored by whichever bound it passed further: accounts against their threshold,
        # patients against the first count above a household.
        score = max(len(accounts) / accounts_needed, len(patients) / (household + 1))
        hits.append(
            Hit(
                rule=RuleName.DEVICE_ACROSS_ACCOUNTS,
                entity_kind=EntityKind.DEVICE,
                entity_key=key,
                score=round(score, 2),
                booking_ids=_booking_ids(group),
                explanation=f"one device acted for {len(patients)} patients of "
                f"{len(accounts)} different accounts (thresholds {accounts_needed} accounts, "
                f"or more than {household} patients)",
                figure=len(accounts) if many_accounts else len(patients),
                threshold=accounts_needed if many_accounts else household,
                more_than=not many_accounts,
                members=_members(group),
            )
        )
    return hits


def availability_polling(
    polls: Iterable[PollFact], found: Sequence[Trace], *, settings: RiskSettings
) -> list[Hit]:
    """Devices polling availability at machine rate: many polls, closely spaced arrivals.

    The devices that acted for one account are pooled (one operator's radar rotating its
    devices), their polls counted together and their arrivals spaced over the pool's
    span; a device that acted for no account stands alone. Every device of a pool that
    fires is a hit (each is an identifier to block), with the pool's figures; the
    accounts and patients the pool acted for are its members."""
    by_device: dict[str, list[Trace]] = defaultdict(list)
    for trace in found:
        if trace.device_key:
            by_device[trace.device_key].append(trace)
    polled = {p.device_key: p for p in polls}
    pools = operator_groups(
        [
            {("device", device)}
            | {("account", t.account_id) for t in by_device.get(device, ()) if t.account_id}
            for device in polled
        ],
        singles=True,
    )
    devices = list(polled)
    hits = []
    for pool in pools:
        members = [polled[devices[i]] for i in pool]
        count = sum(p.polls for p in members)
        first = min(p.first_at for p in members)
        last = max(p.last_at for p in members)
        gap = (last - first).total_seconds() / (count - 1) if count > 1 else None
        if count < settings.poll_count or gap is None or gap > settings.poll_mean_gap_seconds:
            continue
        group = [t for p in members for t in by_device.get(p.device_key, ())]
        pooled = f" from {len(members)} devices of one account" if len(members) > 1 else ""
        for poll in members:
            hits.append(
                Hit(
                    rule=RuleName.AVAILABILITY_POLLING,
                    entity_kind=EntityKind.DEVICE,
                    entity_key=poll.device_key,
                    score=round(count / settings.poll_count, 2),
                    booking_ids=_booking_ids(group),
                    explanation=f"{count} availability polls{pooled} arriving {gap:.1f} s "
                    f"apart on average over {(last - first).total_seconds() / 60:.0f} min "
                    f"(threshold {settings.poll_count} polls at most "
                    f"{settings.poll_mean_gap_seconds:g} s apart)",
                    figure=count,
                    threshold=settings.poll_count,
                    members=_members(group),
                )
            )
    return hits


def machine_pace(acts: Iterable[ActFact]) -> list[Hit]:
    """Devices whose acting requests came ``PACE_BURST`` or more within
    ``HUMAN_STEP_SECONDS`` for patients of two or more accounts: one hit per device, with
    its largest such burst; members are the accounts and patients of its bursts.

    Only across accounts: a channel may let a family enter all its members with one tap
    (one account's requests at once); nobody switches accounts and fills a form for each
    within one human step."""
    streams: dict[str, list[ActFact]] = defaultdict(list)
    for act in acts:
        if act.device_key and act.account_id is not None:
            streams[act.device_key].append(act)
    hits = []
    for key, stream in streams.items():
        stream.sort(key=lambda a: a.at)
        largest: list[ActFact] = []
        burst_members: set[tuple[int | None, str]] = set()
        start = 0
        for end, act in enumerate(stream):
            while (act.at - stream[start].at).total_seconds() > HUMAN_STEP_SECONDS:
                start += 1
            window = stream[start : end + 1]
            if len(window) >= PACE_BURST and len({a.account_id for a in window}) >= 2:
                burst_members |= {(a.account_id, a.patient_key) for a in window}
                if len(window) > len(largest):
                    largest = window
        if not largest:
            continue
        accounts = sorted({a for a, _ in burst_members if a is not None})
        patients = sorted({p for _, p in burst_members})
        span = (largest[-1].at - largest[0].at).total_seconds()
        hits.append(
            Hit(
                rule=RuleName.MACHINE_PACE,
                entity_kind=EntityKind.DEVICE,
                entity_key=key,
                score=round(len(largest) / PACE_BURST, 2),
                explanation=f"{len(largest)} acting requests for patients of "
                f"{len({a.account_id for a in largest})} accounts arrived from this device "
                f"within {span:.1f} s (a person needs {HUMAN_STEP_SECONDS:g} s a step; "
                f"threshold {PACE_BURST})",
                figure=len(largest),
                threshold=PACE_BURST,
                members=(
                    *((EntityKind.ACCOUNT, str(a)) for a in accounts),
                    *((EntityKind.PATIENT, p) for p in patients),
                ),
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
    scarce_entries: Iterable[ScarceEntry] = (),
    acts: Iterable[ActFact] = (),
) -> list[Hit]:
    """Every operator rule over one window, in one order."""
    found = traces(
        bookings=bookings, requests=requests, window=window, staffed_channels=staffed_channels
    )
    hits = [
        *payment_across_accounts(found, settings=settings, scarce_entries=scarce_entries),
        *device_across_accounts(found, settings=settings),
        *availability_polling(polls, found, settings=settings),
        *machine_pace(
            a
            for a in acts
            if window.contains(a.at) and not (a.device_key is None and a.account_id is None)
        ),
        *blacklist_reappearance(
            found,
            blacklisted_patients=blacklisted_patients,
            blacklisted_payments=blacklisted_payments,
            blacklisted_networks=blacklisted_networks,
            settings=settings,
        ),
    ]
    return sorted(_whole_accounts(hits, found), key=lambda h: (h.rule, h.entity_kind, h.entity_key))


def _whole_accounts(hits: Sequence[Hit], found: Sequence[Trace]) -> list[Hit]:
    """Each hit naming an account names every patient the account acted for in the
    window: an account is one operator's, and its identities seen on another device, or
    only in a booking, are the same operator's (a reviewer blocks them all or none)."""
    of_account: dict[str, set[str]] = defaultdict(set)
    for trace in found:
        if trace.account_id is not None:
            of_account[str(trace.account_id)].add(trace.patient_key)
    widened = []
    for hit in hits:
        named = {key for kind, key in hit.members if kind is EntityKind.PATIENT}
        accounts = [key for kind, key in hit.members if kind is EntityKind.ACCOUNT]
        more = sorted(set().union(*(of_account.get(a, set()) for a in accounts)) - named)
        if more:
            hit = replace(hit, members=(*hit.members, *((EntityKind.PATIENT, p) for p in more)))
        widened.append(hit)
    return widened


OPERATOR_RULES: frozenset[str] = frozenset(
    {
        RuleName.PAYMENT_ACROSS_ACCOUNTS,
        RuleName.DEVICE_ACROSS_ACCOUNTS,
        RuleName.AVAILABILITY_POLLING,
        RuleName.MACHINE_PACE,
        RuleName.BLACKLIST_REAPPEARANCE,
    }
)


def operator_groups(
    node_sets: Sequence[Collection[Hashable]], *, singles: bool = False
) -> list[list[int]]:
    """Which operator alerts are about one operator: the indices of ``node_sets`` (each
    alert's entity and members) connected through a shared node, for every group of two
    or more alerts (of one too, with ``singles``), in index order. One operator is then one
    case: the reviewer sees all it did at once, and a confirmation writes one small set of
    blocks."""
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
    return [group for _, group in sorted(groups.items()) if singles or len(group) > 1]
