"""The daily anomaly rules: pure functions from a week of facts to hits with evidence.

Each rule takes the facts, the :class:`Window` and the :class:`RiskSettings` and returns a
sorted list of :class:`Hit`. A hit names the rule, the entity it is about (a patient, an
account, a payment account, a device, a network, a phone), a score (1.0 means exactly at the
threshold, higher is stronger), the bookings and ledger events behind it, and a sentence a
reviewer can read. Rules never decide: review does (issue 4, "Review, blacklist, appeal").

Which moment puts a fact inside the window:
bookings by ``booked_at``; cancellations by ``cancelled_at``; no-shows by ``session_date``;
transfers by the cancellation's ledger time; synchrony by the act's time.
"""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import cached_property
from typing import TypeVar

from fairslot.hospitals.kinds import SexRestriction
from fairslot.ledger.events import EventKind
from fairslot.patients.identity import Sex
from fairslot.risk.facts import BookingFact, RiskSettings, SlotEventFact


class RuleName(enum.StrEnum):
    SAME_PAYMENT_SAME_DEPARTMENT = "same_payment_same_department"
    PATIENT_ACROSS_DEPARTMENTS = "patient_across_departments"
    SEX_MISMATCH = "sex_mismatch"
    CANCELLATIONS_WITHOUT_VISIT = "cancellations_without_visit"
    NO_SHOWS = "no_shows"
    TRANSFER = "transfer"
    SYNCHRONY = "synchrony"
    SHARED_DEVICE = "shared_device"
    SHARED_PAYMENT_ACCOUNT = "shared_payment_account"
    # Operators who lose leave traces too (``operators.py``).
    PAYMENT_ACROSS_ACCOUNTS = "payment_across_accounts"
    DEVICE_ACROSS_ACCOUNTS = "device_across_accounts"
    AVAILABILITY_POLLING = "availability_polling"
    BLACKLIST_REAPPEARANCE = "blacklist_reappearance"
    MACHINE_PACE = "machine_pace"


class EntityKind(enum.StrEnum):
    PATIENT = "patient"
    ACCOUNT = "account"
    PAYMENT_ACCOUNT = "payment_account"
    DEVICE = "device"
    NETWORK = "network"  # key "ip:<addr>" or "wifi:<id>"
    PHONE = "phone"


# Identifiers a stranger does not share by accident; a phone or a home network a family does.
STRONG_LINKS = frozenset({EntityKind.ACCOUNT, EntityKind.DEVICE, EntityKind.PAYMENT_ACCOUNT})


@dataclass(frozen=True, kw_only=True)
class Hit:
    rule: RuleName
    entity_kind: EntityKind
    entity_key: str
    score: float
    booking_ids: tuple[str, ...] = ()
    event_ids: tuple[int, ...] = ()
    explanation: str
    # The counted figure and the threshold it was compared with, for a reviewer to read
    # side by side ("5 paid bookings in one department ≥ 5"); ``more_than`` when the rule
    # fires above the threshold rather than at it.
    figure: int | None = None
    threshold: int | None = None
    more_than: bool = False
    # The accounts and patients the hit ties together, (kind, rule key): blockable even
    # when they booked nothing.
    members: tuple[tuple[EntityKind, str], ...] = ()


@dataclass(frozen=True)
class Window:
    """The half-open interval ``[start, end)`` in UTC.

    ``zone`` is where its days are counted: session dates are the hospital's local dates,
    so :meth:`contains_day` compares them with the window's local first and last day.
    """

    start: datetime
    end: datetime
    zone: tzinfo = UTC

    def __post_init__(self) -> None:
        for name in ("start", "end"):
            value: datetime = getattr(self, name)
            if value.tzinfo is None or value.utcoffset() is None:
                raise ValueError(f"Window.{name} must be UTC-aware, got {value!r}")
        if self.end <= self.start:
            raise ValueError("Window.end must come after Window.start")

    def contains(self, at: datetime) -> bool:
        return self.start <= at < self.end

    def contains_day(self, day: date) -> bool:
        first, after = self.local_days
        return first <= day < after

    @cached_property
    def local_days(self) -> tuple[date, date]:
        """The first local day and the day after the last (read once per row of a rule)."""
        return self.start.astimezone(self.zone).date(), self.end.astimezone(self.zone).date()


def window_ending(day: date, *, settings: RiskSettings, zone: tzinfo = UTC) -> Window:
    """The ``window_days`` days that end with ``day`` (inclusive): the report for ``day``.

    Days are counted in ``zone`` (UTC unless given): the daily batch passes the hospital's
    zone, so the report for a local date covers that date's local midnight to midnight and
    is complete as soon as the local day is over.
    """
    first = day - timedelta(days=settings.window_days - 1)
    start = datetime.combine(first, time(), tzinfo=zone).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(), tzinfo=zone).astimezone(UTC)
    return Window(start=start, end=end, zone=zone)


def _score(count: int, threshold: int) -> float:
    return round(count / threshold, 2)


K = TypeVar("K", bound=Hashable)


def _group(
    bookings: Iterable[BookingFact], key: Callable[[BookingFact], K | None]
) -> dict[K, list[BookingFact]]:
    groups: dict[K, list[BookingFact]] = defaultdict(list)
    for booking in bookings:
        k = key(booking)
        if k is not None:
            groups[k].append(booking)
    return groups


def _ids(bookings: Iterable[BookingFact]) -> tuple[str, ...]:
    return tuple(sorted({b.booking_id for b in bookings}))


def _sorted(hits: Iterable[Hit]) -> list[Hit]:
    """By rule and entity; two hits of one rule on one entity (a card in two departments)
    strongest first, then by their sentence: the same order whatever order the facts came
    in from the database."""
    return sorted(
        hits, key=lambda h: (h.rule, h.entity_kind, h.entity_key, -h.score, h.explanation)
    )


def _by_patient_and_account(
    rule: RuleName,
    matched: Sequence[BookingFact],
    threshold: int,
    what: str,
) -> list[Hit]:
    """Hits for each patient, and each account, with at least ``threshold`` matched bookings.

    The account view catches one operator spreading the pattern over many identities.
    """
    hits: list[Hit] = []
    views: tuple[tuple[EntityKind, Callable[[BookingFact], str | None]], ...] = (
        (EntityKind.PATIENT, lambda b: b.patient_key),
        (EntityKind.ACCOUNT, lambda b: None if b.account_id is None else str(b.account_id)),
    )
    for kind, key in views:
        for entity_key, group in _group(matched, key).items():
            if len(group) >= threshold:
                hits.append(
                    Hit(
                        rule=rule,
                        entity_kind=kind,
                        entity_key=entity_key,
                        score=_score(len(group), threshold),
                        booking_ids=_ids(group),
                        explanation=f"{len(group)} {what} in the window (threshold {threshold})",
                        figure=len(group),
                        threshold=threshold,
                    )
                )
    return hits


# (1) ---------------------------------------------------------------------------------------


def same_payment_same_department(
    bookings: Iterable[BookingFact], *, window: Window, settings: RiskSettings
) -> list[Hit]:
    """One payment account paid for at least N bookings in one department."""
    threshold = settings.same_payment_same_department
    paid = [b for b in bookings if b.is_paid and window.contains(b.booked_at)]
    hits = []
    groups = _group(paid, lambda b: (b.payment_account_hash, b.department_id))
    for (payment, department), group in groups.items():
        if payment is not None and len(group) >= threshold:
            hits.append(
                Hit(
                    rule=RuleName.SAME_PAYMENT_SAME_DEPARTMENT,
                    entity_kind=EntityKind.PAYMENT_ACCOUNT,
                    entity_key=payment,
                    score=_score(len(group), threshold),
                    booking_ids=_ids(group),
                    explanation=f"one payment account paid for {len(group)} bookings in "
                    f"department {department} ({group[0].department_specialty}); "
                    f"threshold {threshold}",
                    figure=len(group),
                    threshold=threshold,
                )
            )
    return _sorted(hits)


# (2) ---------------------------------------------------------------------------------------


def patient_across_departments(
    bookings: Iterable[BookingFact], *, window: Window, settings: RiskSettings
) -> list[Hit]:
    """One patient booked in at least N *different* departments.

    Repeat visits to one clinic are follow-ups, not spread, so they count once.
    """
    threshold = settings.same_patient_departments
    booked = [b for b in bookings if b.is_booking and window.contains(b.booked_at)]
    hits = []
    for patient, group in _group(booked, lambda b: b.patient_key).items():
        departments = {b.department_id for b in group}
        if len(departments) >= threshold:
            hits.append(
                Hit(
                    rule=RuleName.PATIENT_ACROSS_DEPARTMENTS,
                    entity_kind=EntityKind.PATIENT,
                    entity_key=patient,
                    score=_score(len(departments), threshold),
                    booking_ids=_ids(group),
                    explanation=f"{len(group)} bookings in {len(departments)} different "
                    f"departments (threshold {threshold})",
                    figure=len(departments),
                    threshold=threshold,
                )
            )
    return _sorted(hits)


# (3) ---------------------------------------------------------------------------------------


def is_sex_mismatch(booking: BookingFact) -> bool:
    if booking.patient_sex is None:
        return False
    if booking.sex_restriction is SexRestriction.FEMALE:
        return booking.patient_sex is not Sex.FEMALE
    if booking.sex_restriction is SexRestriction.MALE:
        return booking.patient_sex is not Sex.MALE
    return False


def sex_mismatch(
    bookings: Iterable[BookingFact], *, window: Window, settings: RiskSettings
) -> list[Hit]:
    """A man in a female-only department, or a woman in a male-only one, repeatedly."""
    matched = [
        b for b in bookings if b.is_booking and window.contains(b.booked_at) and is_sex_mismatch(b)
    ]
    return _sorted(
        _by_patient_and_account(
            RuleName.SEX_MISMATCH,
            matched,
            settings.sex_mismatch_repeat,
            "bookings in a department restricted to the other sex",
        )
    )


# (4) ---------------------------------------------------------------------------------------


def cancellations_without_visit(
    bookings: Iterable[BookingFact], *, window: Window, settings: RiskSettings
) -> list[Hit]:
    """At least N cancellations that no visit followed.

    A cancellation is forgiven when the same patient attended a visit in the same department
    within the window: that was a reschedule, and the patient came.
    """
    history = list(bookings)
    visited = {
        (b.patient_key, b.department_id)
        for b in history
        if b.is_attended and window.contains_day(b.session_date)
    }
    matched = [
        b
        for b in history
        if b.is_cancelled
        and b.cancelled_at is not None
        and window.contains(b.cancelled_at)
        and (b.patient_key, b.department_id) not in visited
    ]
    return _sorted(
        _by_patient_and_account(
            RuleName.CANCELLATIONS_WITHOUT_VISIT,
            matched,
            settings.cancellations_without_visit,
            "cancellations without a visit",
        )
    )


# (5) ---------------------------------------------------------------------------------------


def no_shows(
    bookings: Iterable[BookingFact], *, window: Window, settings: RiskSettings
) -> list[Hit]:
    """At least N booked visits nobody came to, by session date."""
    matched = [b for b in bookings if b.is_no_show and window.contains_day(b.session_date)]
    return _sorted(
        _by_patient_and_account(RuleName.NO_SHOWS, matched, settings.no_shows, "no-shows")
    )


# (6) ---------------------------------------------------------------------------------------

_ACQUIRE = frozenset({EventKind.HELD, EventKind.BOOKED})


def _identifiers(event: SlotEventFact) -> set[tuple[EntityKind, str]]:
    found: set[tuple[EntityKind, str]] = set()
    if event.account_id is not None:
        found.add((EntityKind.ACCOUNT, str(event.account_id)))
    if event.device_key:
        found.add((EntityKind.DEVICE, event.device_key))
    if event.ip_key:
        found.add((EntityKind.NETWORK, f"ip:{event.ip_key}"))
    if event.wifi_key:
        found.add((EntityKind.NETWORK, f"wifi:{event.wifi_key}"))
    if event.phone_hash:
        found.add((EntityKind.PHONE, event.phone_hash))
    if event.payment_account_hash:
        found.add((EntityKind.PAYMENT_ACCOUNT, event.payment_account_hash))
    return found


@dataclass(frozen=True)
class Transfer:
    """A cancellation and the next acquisition of the same slot by a linked, other patient."""

    cancelled: SlotEventFact
    taken: SlotEventFact
    links: frozenset[tuple[EntityKind, str]]


def find_transfers(
    events: Iterable[SlotEventFact], *, window: Window, settings: RiskSettings
) -> list[Transfer]:
    """Walk each slot's ledger: after a cancellation, the next hold or booking of that slot.

    It is a transfer when that next taker is a *different* patient who shares an identifier
    with the canceller, within ``transfer_max_gap``. The same patient re-booking, or a stranger
    taking the returned slot, is not.
    """
    by_slot: dict[str, list[SlotEventFact]] = defaultdict(list)
    for event in events:
        by_slot[event.slot_id].append(event)
    transfers = []
    for slot_events in by_slot.values():
        slot_events.sort(key=lambda e: (e.at, e.event_id))
        for i, cancel in enumerate(slot_events):
            if cancel.kind is not EventKind.CANCELLED or not window.contains(cancel.at):
                continue
            taken = next((e for e in slot_events[i + 1 :] if e.kind in _ACQUIRE), None)
            if (
                taken is None
                or taken.at - cancel.at > settings.transfer_max_gap
                or cancel.patient_key is None
                or taken.patient_key is None
                or taken.patient_key == cancel.patient_key
            ):
                continue
            links = _identifiers(cancel) & _identifiers(taken)
            if links:
                transfers.append(Transfer(cancel, taken, frozenset(links)))
    return transfers


def transfer(
    events: Iterable[SlotEventFact], *, window: Window, settings: RiskSettings
) -> list[Hit]:
    """Transfers grouped by the identifier that links canceller and taker.

    A strong link (account, device, payment account) fires from ``transfer_strong_repeat``
    transfers; a weak one (phone, network) needs ``transfer_weak_repeat``, so a family handing
    one visit to another member over a shared phone and home Wi-Fi is not flagged on that alone.
    """
    groups: dict[tuple[EntityKind, str], list[Transfer]] = defaultdict(list)
    for found in find_transfers(events, window=window, settings=settings):
        for link in found.links:
            groups[link].append(found)
    hits = []
    for (kind, key), group in groups.items():
        needed = (
            settings.transfer_strong_repeat
            if kind in STRONG_LINKS
            else settings.transfer_weak_repeat
        )
        if len(group) < needed:
            continue
        event_ids = sorted({e for t in group for e in (t.cancelled.event_id, t.taken.event_id)})
        booking_ids = sorted(
            {b for t in group for b in (t.cancelled.booking_id, t.taken.booking_id) if b}
        )
        hits.append(
            Hit(
                rule=RuleName.TRANSFER,
                entity_kind=kind,
                entity_key=key,
                score=_score(len(group), needed),
                booking_ids=tuple(booking_ids),
                event_ids=tuple(event_ids),
                explanation=f"{len(group)} cancelled slot(s) next taken by another patient "
                f"sharing this {kind} with the canceller (threshold {needed})",
                figure=len(group),
                threshold=needed,
            )
        )
    return _sorted(hits)


# (7) ---------------------------------------------------------------------------------------


def synchrony(
    bookings: Iterable[BookingFact], *, window: Window, settings: RiskSettings
) -> list[Hit]:
    """Accounts that act (book or cancel) on the same doctor-session within seconds, repeatedly.

    One coincidence is a busy release; the same two accounts side by side on
    ``synchrony_sessions`` different sessions is a team (or one script) at work.
    """
    acts: dict[int, list[tuple[datetime, int, str]]] = defaultdict(list)
    for booking in bookings:
        if booking.account_id is None:
            continue
        for at in (booking.booked_at, booking.cancelled_at):
            if at is not None and window.contains(at):
                acts[booking.session_id].append((at, booking.account_id, booking.booking_id))
    # pair of accounts -> sessions they shared, and the bookings behind it
    sessions: dict[tuple[int, int], set[int]] = defaultdict(set)
    evidence: dict[tuple[int, int], set[str]] = defaultdict(set)
    for session_id, session_acts in acts.items():
        session_acts.sort()
        for i, (at, account, booking_id) in enumerate(session_acts):
            for other_at, other, other_booking in session_acts[i + 1 :]:
                if other_at - at > settings.synchrony_gap:
                    break
                if other != account:
                    pair = (min(account, other), max(account, other))
                    sessions[pair].add(session_id)
                    evidence[pair] |= {booking_id, other_booking}
    partners: dict[int, set[int]] = defaultdict(set)
    shared: dict[int, set[int]] = defaultdict(set)
    proof: dict[int, set[str]] = defaultdict(set)
    for (a, b), together in sessions.items():
        if len(together) < settings.synchrony_sessions:
            continue
        for me, other in ((a, b), (b, a)):
            partners[me].add(other)
            shared[me] |= together
            proof[me] |= evidence[(a, b)]
    hits = [
        Hit(
            rule=RuleName.SYNCHRONY,
            entity_kind=EntityKind.ACCOUNT,
            entity_key=str(account),
            score=_score(len(shared[account]), settings.synchrony_sessions),
            booking_ids=tuple(sorted(proof[account])),
            explanation=f"acted within {settings.synchrony_gap.total_seconds():g} s of account(s) "
            f"{', '.join(str(p) for p in sorted(partners[account]))} on "
            f"{len(shared[account])} sessions (threshold {settings.synchrony_sessions})",
            figure=len(shared[account]),
            threshold=settings.synchrony_sessions,
        )
        for account in partners
    ]
    return _sorted(hits)


# (8) ---------------------------------------------------------------------------------------


def shared_identifiers(
    bookings: Iterable[BookingFact], *, window: Window, settings: RiskSettings
) -> list[Hit]:
    """One device, or one payment account, used for *more than* N patients.

    Phones and networks are left out on purpose: a family shares a phone and a home network,
    a hospital shares its Wi-Fi; those links only count in the transfer rule and the rings.
    """
    recent = [b for b in bookings if b.is_booking and window.contains(b.booked_at)]
    views: tuple[tuple[RuleName, EntityKind, Callable[[BookingFact], str | None], int], ...] = (
        (
            RuleName.SHARED_DEVICE,
            EntityKind.DEVICE,
            lambda b: b.device_key,
            settings.shared_device_patients,
        ),
        (
            RuleName.SHARED_PAYMENT_ACCOUNT,
            EntityKind.PAYMENT_ACCOUNT,
            lambda b: b.payment_account_hash,
            settings.shared_payment_patients,
        ),
    )
    hits = []
    for rule, kind, key, limit in views:
        for entity_key, group in _group(recent, key).items():
            patients = {b.patient_key for b in group}
            if len(patients) > limit:
                hits.append(
                    Hit(
                        rule=rule,
                        entity_kind=kind,
                        entity_key=entity_key,
                        score=_score(len(patients), limit),
                        booking_ids=_ids(group),
                        explanation=f"one {kind} used for {len(patients)} patients "
                        f"(more than {limit} fires)",
                        figure=len(patients),
                        threshold=limit,
                        more_than=True,
                    )
                )
    return _sorted(hits)


# all ---------------------------------------------------------------------------------------

BOOKING_RULES: tuple[Callable[..., list[Hit]], ...] = (
    same_payment_same_department,
    patient_across_departments,
    sex_mismatch,
    cancellations_without_visit,
    no_shows,
    synchrony,
    shared_identifiers,
)


def run_all(
    *,
    bookings: Sequence[BookingFact],
    events: Sequence[SlotEventFact],
    window: Window,
    settings: RiskSettings,
) -> list[Hit]:
    """Every rule over one window: the same facts always give the same hits, in one order."""
    hits = [h for rule in BOOKING_RULES for h in rule(bookings, window=window, settings=settings)]
    hits += transfer(events, window=window, settings=settings)
    return _sorted(hits)
