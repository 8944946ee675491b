"""Each rule of the daily report with the settings it fires at, and an alert's figure
against its threshold. Pure: no I/O.

Every rule scores 1.0 exactly at its threshold (``risk/rules.py::_score``: the count over
the threshold; a ring's score over the flag score), so an alert's figure is its score
times the threshold — the count a reviewer compares with the setting. The real-time
review alert scores differently (``risk/realtime.py``): it has a threshold but no figure.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from fairslot.risk.alerts import RING_RULE
from fairslot.risk.facts import RiskSettings
from fairslot.risk.report import REALTIME_REVIEW_RULE
from fairslot.risk.rings import RingSettings
from fairslot.risk.rules import STRONG_LINKS, RuleName

PAPER_RULES: Final = (
    RuleName.SAME_PAYMENT_SAME_DEPARTMENT.value,
    RuleName.PATIENT_ACROSS_DEPARTMENTS.value,
    RuleName.SEX_MISMATCH.value,
    RuleName.CANCELLATIONS_WITHOUT_VISIT.value,
)
"""The source paper's four rules, in its order; every other rule is the platform's own."""

Parameters = Mapping[str, int | float]


def parameters(rule: str, *, risk: RiskSettings, ring: RingSettings) -> Parameters:
    """The settings ``rule`` fires at, named as the report's sentences name them (``days``
    is the window every rule reads). An unknown rule (a newer batch's) has only ``days``."""
    days = risk.window_days
    table: dict[str, dict[str, int | float]] = {
        RuleName.SAME_PAYMENT_SAME_DEPARTMENT: {"n": risk.same_payment_same_department},
        RuleName.PATIENT_ACROSS_DEPARTMENTS: {"n": risk.same_patient_departments},
        RuleName.SEX_MISMATCH: {"n": risk.sex_mismatch_repeat},
        RuleName.CANCELLATIONS_WITHOUT_VISIT: {"n": risk.cancellations_without_visit},
        RuleName.NO_SHOWS: {"n": risk.no_shows},
        RuleName.TRANSFER: {
            "strong": risk.transfer_strong_repeat,
            "weak": risk.transfer_weak_repeat,
            "minutes": int(risk.transfer_max_gap.total_seconds() // 60),
        },
        RuleName.SYNCHRONY: {
            "n": risk.synchrony_sessions,
            "seconds": int(risk.synchrony_gap.total_seconds()),
        },
        RuleName.SHARED_DEVICE: {"n": risk.shared_device_patients},
        RuleName.SHARED_PAYMENT_ACCOUNT: {"n": risk.shared_payment_patients},
        RuleName.PAYMENT_ACROSS_ACCOUNTS: {
            "n": risk.payment_accounts,
            "patients": risk.payment_patients,
        },
        RuleName.DEVICE_ACROSS_ACCOUNTS: {"n": risk.device_accounts},
        RuleName.AVAILABILITY_POLLING: {
            "n": risk.poll_count,
            "seconds": risk.poll_mean_gap_seconds,
        },
        RuleName.BLACKLIST_REAPPEARANCE: {"n": risk.reappear_wifi_patients},
        RING_RULE: {"n": ring.flag_score, "patients": ring.min_ring_patients},
        REALTIME_REVIEW_RULE: {"n": risk.realtime_min_requests},
    }
    return {"days": days, **table.get(rule, {})}


def threshold(rule: str, entity_kind: str, *, risk: RiskSettings, ring: RingSettings) -> int | None:
    """The count an alert of ``rule`` on ``entity_kind`` fired at; None where its score is
    not a count over a threshold (the real-time review) or the rule is unknown."""
    if rule == RuleName.TRANSFER:
        strong = entity_kind in {kind.value for kind in STRONG_LINKS}
        return risk.transfer_strong_repeat if strong else risk.transfer_weak_repeat
    if rule in (REALTIME_REVIEW_RULE, RuleName.BLACKLIST_REAPPEARANCE):
        # scored by what reappeared (a payment account weighs more than a Wi-Fi)
        return None
    n = parameters(rule, risk=risk, ring=ring).get("n")
    return int(n) if n is not None else None


def figure(score: float, threshold: int | None) -> int | None:
    """The count behind ``score`` (scores are rounded to two decimals, so the product is
    the count for any threshold under 100)."""
    return None if threshold is None else round(score * threshold)
