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


def alert(rule: str, score: float, kind: str, label: str) -> dict[str, Any]:
    return {"rule": rule, "score": score, "entity_kind": kind, "entity_label": label}


def test_two_devices_each_tying_the_case_together_are_two_witnesses() -> None:
    case = evidence(scopes=ALL_SCOPES)
    case["alerts"] = [
        alert("device_across_accounts", 1.33, "device", "dev a1b2…"),
        alert("device_across_accounts", 1.33, "device", "dev c3d4…"),
    ]
    decision = decide(case)
    assert decision.confirm and "2 different devices or payment accounts" in decision.reason


def test_one_device_named_twice_or_networks_are_not_witnesses() -> None:
    case = evidence(scopes=ALL_SCOPES)
    case["alerts"] = [
        alert("device_across_accounts", 1.33, "device", "dev a1b2…"),
        alert("device_across_accounts", 1.33, "device", "dev a1b2…"),
    ]
    assert not decide(case).confirm
    case["alerts"] = [
        alert("shared_network", 1.2, "network", "ip 36.1.2.x"),
        alert("shared_network", 1.2, "network", "ip 58.3.4.x"),
    ]
    assert not decide(case).confirm


def test_the_gates_flags_on_two_devices_are_not_witnesses_of_a_link() -> None:
    case = evidence(scopes=ALL_SCOPES)
    case["alerts"] = [
        alert("realtime_review", 1.0, "device", "dev a1b2…"),
        alert("realtime_review", 1.0, "device", "dev c3d4…"),
    ]
    assert not decide(case).confirm
