"""From rule hits and flagged rings to the alerts the batch stores. Pure: no I/O.

An alert names its entity by the key a blacklist entry would be stored under
(``blacklist/keys.py``): patients, phones and payment accounts by the keyed hashes the
platform already keeps, accounts as ``account:<id>``, devices and networks (stored in the
clear on bookings and the ledger) by their keyed hash. A reviewer confirming a case can
therefore block the very key the alert shows, and no alert, label or ring detail carries
a device id, an address or a phone number in the clear: labels are masked.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from fairslot.context import short_key
from fairslot.risk import rings as ring_kinds
from fairslot.risk.rings import Ring, RingSettings
from fairslot.risk.rules import EntityKind, Hit

Hasher = Callable[[str, str], str]
"""``(value, purpose) -> keyed hash``: the platform's ``Protector.keyed_hash``."""

RING_RULE: Final = "ring"
RING_KIND: Final = "ring"
# A ring's evidence lists its members' bookings up to this many (the count is kept).
MAX_RING_BOOKINGS: Final = 1000

# The blacklist scope each entity kind is blocked under (``blacklist.models.Scope`` values).
SCOPE_OF: Final[Mapping[str, str]] = {
    EntityKind.PATIENT: "patient",
    EntityKind.ACCOUNT: "account",
    EntityKind.PHONE: "phone",
    EntityKind.DEVICE: "device",
    EntityKind.NETWORK: "network",
    EntityKind.PAYMENT_ACCOUNT: "payment",
}

# Ring graph node kinds as alert entity kinds.
_NODE_KIND: Final[Mapping[str, EntityKind]] = {
    ring_kinds.PATIENT: EntityKind.PATIENT,
    ring_kinds.ACCOUNT: EntityKind.ACCOUNT,
    ring_kinds.PHONE: EntityKind.PHONE,
    ring_kinds.DEVICE: EntityKind.DEVICE,
    ring_kinds.NETWORK: EntityKind.NETWORK,
    ring_kinds.PAYMENT: EntityKind.PAYMENT_ACCOUNT,
}


@dataclass(frozen=True, kw_only=True)
class Labels:
    """What the batch may show of a person without decrypting anything: the last four
    characters of a patient's ID number and the masked form of a payment account."""

    patient_last4: Mapping[str, str] = field(default_factory=dict)
    payment_masked: Mapping[str, str] = field(default_factory=dict)
    # An address's key → its masked label (203.0.113.x), where a stored row carried one.
    ip_labels: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class Entity:
    kind: str
    key: str
    label: str


@dataclass(frozen=True, kw_only=True)
class AlertDraft:
    rule: str
    entity: Entity
    score: float
    explanation: str
    booking_ids: tuple[str, ...] = ()
    event_ids: tuple[int, ...] = ()
    details: Mapping[str, Any] = field(default_factory=dict)
    ring_id: str | None = None

    @property
    def identity(self) -> tuple[str, str, str]:
        """What makes an alert unique within a run date (with the date)."""
        return (self.rule, self.entity.kind, self.entity.key)


def entity(kind: EntityKind, raw: str, *, hasher: Hasher, labels: Labels) -> Entity:
    """An entity as an alert names it: ``raw`` is the rule's key (``ip:``/``wifi:`` prefix
    for networks), the result carries the stored key and a masked label."""
    if kind is EntityKind.PATIENT:
        last4 = labels.patient_last4.get(raw)
        label = f"patient ****{last4}" if last4 else f"patient …{raw[-4:]}"
        return Entity(kind=kind, key=raw, label=label)
    if kind is EntityKind.ACCOUNT:
        return Entity(kind=kind, key=f"account:{raw}", label=f"account {raw}")
    if kind is EntityKind.PHONE:
        return Entity(kind=kind, key=raw, label=f"phone …{raw[-4:]}")
    if kind is EntityKind.PAYMENT_ACCOUNT:
        masked = labels.payment_masked.get(raw)
        return Entity(kind=kind, key=raw, label=f"payment {masked or '…' + raw[-4:]}")
    # Devices and networks are stored as keyed hashes under the blacklist's purposes
    # (``context.py``): the rule's key is the stored key, never hashed again.
    if kind is EntityKind.DEVICE:
        return Entity(kind=kind, key=raw, label=f"device {short_key(raw)}")
    network_kind, _, key = raw.partition(":")
    shown = labels.ip_labels.get(key) or short_key(key)
    return Entity(kind=kind, key=key, label=f"{network_kind} {shown}")


def node_entity(node: ring_kinds.Node, *, hasher: Hasher, labels: Labels) -> Entity:
    kind, value = node
    entity_kind = _NODE_KIND[kind]
    if entity_kind is EntityKind.NETWORK:
        # A ring's network node is an address's or a Wi-Fi id's key; only a known
        # address label tells them apart.
        value = ("ip:" if value in labels.ip_labels else "network:") + value
    return entity(entity_kind, value, hasher=hasher, labels=labels)


def hit_alert(hit: Hit, *, hasher: Hasher, labels: Labels) -> AlertDraft:
    found = entity(hit.entity_kind, hit.entity_key, hasher=hasher, labels=labels)
    return AlertDraft(
        rule=hit.rule.value,
        entity=found,
        score=hit.score,
        explanation=hit.explanation[:1000],
        booking_ids=hit.booking_ids,
        event_ids=hit.event_ids,
        details={"scope": SCOPE_OF[hit.entity_kind], **_figures(hit), **_members(hit, labels)},
    )


def _members(hit: Hit, labels: Labels) -> dict[str, Any]:
    """The accounts and patients a hit ties together, under their stored keys, as
    ``cases/candidates.py::ring_entries`` reads them: ``[[kind, key], ...]``."""
    if not hit.members:
        return {}
    found = [entity(kind, raw, hasher=_no_hash, labels=labels) for kind, raw in hit.members]
    return {"members": [[e.kind, e.key] for e in found]}


def _no_hash(value: str, purpose: str) -> str:
    # Accounts and patients are named by keys the platform already stores: nothing to hash.
    raise AssertionError("members are never hashed")


def _figures(hit: Hit) -> dict[str, Any]:
    """The figure a rule counted and its threshold, for the reviewer's side-by-side."""
    if hit.figure is None or hit.threshold is None:
        return {}
    return {
        "figure": hit.figure,
        "threshold": hit.threshold,
        "comparison": "more_than" if hit.more_than else "at_least",
    }


def ring_alert(
    ring: Ring,
    *,
    settings: RingSettings,
    hasher: Hasher,
    labels: Labels,
    booking_ids: Iterable[str] = (),
) -> AlertDraft:
    """A flagged ring as one alert: members and identifiers by stored key and masked label,
    the reasons (their identifiers masked too) and the counts behind the score."""
    members = {node: node_entity(node, hasher=hasher, labels=labels) for node in ring.members}
    details = [_masked_detail(r.detail, members) for r in ring.reasons]
    reasons = [
        {"code": r.code, "points": r.points, "detail": detail}
        for r, detail in zip(ring.reasons, details, strict=True)
    ]
    evidence = sorted(booking_ids)
    identifiers = {
        kind: [_shown(members[(kind, value)]) for value in ring.identifiers_of(kind)]
        for kind in ring_kinds.IDENTIFIER_KINDS
    }
    label = (
        f"ring {ring.ring_id[:8]} ({len(ring.patients)} patients, {len(ring.accounts)} accounts)"
    )
    return AlertDraft(
        rule=RING_RULE,
        entity=Entity(kind=RING_KIND, key=ring.ring_id, label=label),
        # 1.0 at the flag score, like a rule hit at its threshold, so cases rank on one scale.
        score=round(ring.score / settings.flag_score, 2),
        explanation="; ".join(details)[:1000],
        booking_ids=tuple(evidence[:MAX_RING_BOOKINGS]),
        details={
            "patients": [_shown(members[(ring_kinds.PATIENT, p)]) for p in ring.patients],
            "accounts": [_shown(members[(ring_kinds.ACCOUNT, a)]) for a in ring.accounts],
            "identifiers": identifiers,
            "reasons": reasons,
            "counts": {
                "patients": len(ring.patients),
                "accounts": len(ring.accounts),
                "bookings": ring.bookings,
                "scarce": ring.scarce,
                "cancelled_without_visit": ring.cancelled_without_visit,
                "no_shows": ring.no_shows,
                "flagged_requests": ring.flagged_requests,
                "evidence_bookings": len(evidence),
            },
            "ring_score": ring.score,
            "flag_score": settings.flag_score,
        },
        ring_id=ring.ring_id,
    )


def ring_members(
    flagged: Iterable[Ring], *, hasher: Hasher, labels: Labels
) -> dict[tuple[str, str], str]:
    """``(entity kind, stored key) -> ring id`` for every member of the flagged rings."""
    index: dict[tuple[str, str], str] = {}
    for ring in flagged:
        for node in ring.members:
            found = node_entity(node, hasher=hasher, labels=labels)
            index[(found.kind, found.key)] = ring.ring_id
    return index


def _shown(found: Entity) -> dict[str, str]:
    return {"key": found.key, "label": found.label}


def _masked_detail(detail: str, members: Mapping[ring_kinds.Node, Entity]) -> str:
    """Reason sentences name the widest identifier by its value; show its label instead."""
    for (kind, value), found in members.items():
        if kind != ring_kinds.PATIENT and f"{kind} {value} " in detail:
            detail = detail.replace(f"{kind} {value} ", f"{found.label} ")
    return detail


def merged(found: Iterable[AlertDraft]) -> list[AlertDraft]:
    """One alert per (rule, entity): a date stores each at most once, but one rule can hit
    an entity twice (a card paying for five bookings in each of two departments). The
    evidence is joined, the score is the highest, the sentences are kept side by side."""
    by_identity: dict[tuple[str, str, str], AlertDraft] = {}
    for draft in found:
        seen = by_identity.get(draft.identity)
        if seen is None:
            by_identity[draft.identity] = draft
            continue
        # The stronger hit's details win, so its figure stands beside the highest score.
        weaker, stronger = (seen, draft) if draft.score > seen.score else (draft, seen)
        by_identity[draft.identity] = AlertDraft(
            rule=seen.rule,
            entity=seen.entity,
            score=max(seen.score, draft.score),
            explanation=f"{seen.explanation}; {draft.explanation}"[:1000],
            booking_ids=tuple(sorted({*seen.booking_ids, *draft.booking_ids})),
            event_ids=tuple(sorted({*seen.event_ids, *draft.event_ids})),
            details={**weaker.details, **stronger.details},
            ring_id=seen.ring_id or draft.ring_id,
        )
    return list(by_identity.values())
