"""How well a batch caught what the benchmark planted. Pure: no I/O."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from fairslot.bench.riskweek.scalpers import Planted
from fairslot.risk.report import REALTIME_REVIEW_RULE


class FamilyMember(Protocol):
    """A member of a family sharing one phone (a generated person or a kept one)."""

    @property
    def key(self) -> str: ...
    @property
    def phone_hash(self) -> str: ...
    @property
    def account_id(self) -> int: ...


class AlertLike(Protocol):
    @property
    def rule(self) -> str: ...
    @property
    def entity_kind(self) -> str: ...
    @property
    def entity_key(self) -> str: ...
    @property
    def details(self) -> Mapping[str, Any]: ...


@dataclass
class Verdict:
    patterns: dict[str, tuple[int, int]] = field(default_factory=dict)  # planted, caught
    families: int = 0
    families_flagged: int = 0
    # Families with a realtime_review alert on one of their accounts: the gate's own
    # decision on a request (a quick payment, a burst of bindings) passed on for review,
    # not a judgement of the batch; counted apart from ``families_flagged``.
    families_gate_reviewed: int = 0
    other_alerts: Counter[str] = field(default_factory=Counter)


def ring_patients(alert: AlertLike) -> set[str]:
    return {member["key"] for member in alert.details.get("patients", ())}


def judge(
    planted: Sequence[Planted],
    alerts: Iterable[AlertLike],
    *,
    families: Sequence[Sequence[FamilyMember]],
) -> Verdict:
    found = list(alerts)
    keys = {(a.rule, a.entity_kind, a.entity_key) for a in found}
    rings = [ring_patients(a) for a in found if a.rule == "ring"]
    gate_reviews = [a for a in found if a.rule == REALTIME_REVIEW_RULE]
    verdict = Verdict(families=len(families))
    explained: set[tuple[str, str]] = set()
    planted_patients: set[str] = set()
    for plan in planted:
        if plan.ring_patients:
            caught = any(
                len(plan.ring_patients & ring) * 2 > len(plan.ring_patients) for ring in rings
            )
        else:
            caught = any(expected in keys for expected in plan.expected)
        explained |= plan.entities
        planted_patients |= plan.ring_patients | {
            k for kind, k in plan.entities if kind == "patient"
        }
        total, hits = verdict.patterns.get(plan.pattern, (0, 0))
        verdict.patterns[plan.pattern] = (total + 1, hits + int(caught))
    family_keys = {p.key for family in families for p in family}
    family_phones = {p.phone_hash for family in families for p in family}
    for family in families:
        members = {p.key for p in family}
        phones = {p.phone_hash for p in family}
        if any(
            (a.entity_kind == "patient" and a.entity_key in members)
            or (a.entity_kind == "phone" and a.entity_key in phones)
            or (a.rule == "ring" and ring_patients(a) & members)
            for a in found
        ):
            verdict.families_flagged += 1
        accounts = {f"account:{p.account_id}" for p in family}
        if any(a.entity_kind == "account" and a.entity_key in accounts for a in gate_reviews):
            verdict.families_gate_reviewed += 1
    for alert in found:
        if (alert.entity_kind, alert.entity_key) in explained:
            continue
        if alert.rule == "ring" and ring_patients(alert) & planted_patients:
            continue
        if alert.entity_kind == "patient" and alert.entity_key in family_keys:
            continue
        if alert.entity_kind == "phone" and alert.entity_key in family_phones:
            continue
        verdict.other_alerts[alert.rule] += 1
    return verdict
