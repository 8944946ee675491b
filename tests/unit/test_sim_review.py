"""The simulated reviewer's rule: a case's evidence in, a decision out."""

from __future__ import annotations

from typing import Any

from fairslot.sim.review import REASON_PREFIX, decide


def evidence(*alerts: tuple[str, float], scopes: tuple[str, ...] = ()) -> dict[str, Any]:
    return {
        "case": {"case_id": 1, "subject_kind": "patient"},
        "alerts": [{"rule": rule, "score": score} for rule, score in alerts],
        "candidates": [{"scope": s, "key": f"k-{s}", "label": s} for s in scopes],
    }


ALL_SCOPES = ("patient", "phone", "account", "device", "network", "payment")


def test_a_flagged_ring_is_confirmed_and_its_patient_phone_device_and_payment_are_blocked() -> None:
    decision = decide(evidence(("ring", 1.0), scopes=ALL_SCOPES))
    assert decision.confirm
    assert decision.scopes == ("patient", "phone", "device", "payment")
    assert "ring" in decision.reason


def test_two_different_rules_on_one_case_are_enough_to_confirm() -> None:
    decision = decide(evidence(("synchrony", 1.0), ("shared_device", 1.2), scopes=ALL_SCOPES))
    assert decision.confirm and "2 rules agree" in decision.reason


def test_one_rule_at_twice_its_threshold_is_enough_to_confirm() -> None:
    assert decide(evidence(("no_shows", 2.0), scopes=ALL_SCOPES)).confirm


def test_a_single_rule_near_its_threshold_is_dismissed() -> None:
    decision = decide(evidence(("no_shows", 1.33), scopes=ALL_SCOPES))
    assert not decision.confirm and decision.scopes == ()
    assert "weak evidence" in decision.reason


def test_the_same_rule_twice_is_not_two_rules() -> None:
    assert not decide(evidence(("transfer", 1.0), ("transfer", 1.0), scopes=ALL_SCOPES)).confirm


def test_strong_evidence_with_nothing_blockable_but_networks_is_dismissed() -> None:
    decision = decide(evidence(("ring", 1.0), scopes=("network", "account")))
    assert not decision.confirm and "no scope to block" in decision.reason


def test_only_the_scopes_the_case_lists_are_chosen() -> None:
    assert decide(evidence(("ring", 1.0), scopes=("device", "patient"))).scopes == (
        "patient",
        "device",
    )


def test_every_reason_says_the_decision_was_simulated() -> None:
    for case in (evidence(("ring", 1.0), scopes=ALL_SCOPES), evidence()):
        assert decide(case).reason.startswith(REASON_PREFIX)
