"""What each alert of a case found, against its threshold: from the figures the batch
stores, from an older alert's sentence and score, for a ring and for the real-time gate."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fairslot.cases.findings import AT_LEAST, MORE_THAN, findings
from fairslot.cases.schemas import AlertView


def alert(
    rule: str,
    *,
    score: float = 1.0,
    explanation: str = "",
    details: dict[str, Any] | None = None,
    bookings: list[str] | None = None,
    alert_id: int = 1,
) -> AlertView:
    return AlertView(
        alert_id=alert_id,
        run_date=dt.date(2026, 12, 5),
        rule=rule,
        entity_kind="payment_account",
        entity_label="payment 62****9999",
        score=score,
        explanation=explanation,
        details=details or {},
        booking_ids=bookings or [],
        event_ids=[],
        ring_id=None,
    )


def test_a_rule_alert_shows_the_stored_figure_against_its_threshold_and_its_department() -> None:
    found = findings(
        [
            alert(
                "same_payment_same_department",
                score=1.4,
                details={"scope": "payment", "figure": 7, "threshold": 5, "comparison": "at_least"},
                bookings=["b1", "b2"],
            )
        ],
        departments={"b1": "眼科", "b2": "眼科"},
    )

    assert [(f.figure, f.threshold, f.comparison, f.department) for f in found] == [
        ("7", "5", AT_LEAST, "眼科")
    ]


def test_bookings_in_several_departments_name_none() -> None:
    found = findings(
        [alert("no_shows", details={"figure": 6, "threshold": 5}, bookings=["b1", "b2"])],
        departments={"b1": "眼科", "b2": "心内科"},
    )

    assert found[0].department is None


def test_an_older_alert_reads_its_threshold_from_the_sentence_and_the_figure_from_the_score() -> (
    None
):
    at_least = alert("no_shows", score=1.4, explanation="7 no-shows in the window (threshold 5)")
    above = alert(
        "shared_device",
        score=1.67,
        explanation="one device used for 5 patients (more than 3 fires)",
        alert_id=2,
    )

    found = {f.rule: f for f in findings([at_least, above], departments={})}

    assert (found["no_shows"].figure, found["no_shows"].threshold) == ("7", "5")
    assert (found["shared_device"].figure, found["shared_device"].threshold) == ("5", "3")
    assert found["shared_device"].comparison == MORE_THAN


def test_a_sentence_without_a_threshold_leaves_the_figure_unknown() -> None:
    found = findings([alert("no_shows", explanation="something odd")], departments={})

    assert found[0].figure is None and found[0].threshold is None


def test_a_ring_compares_its_score_with_the_flag_score_and_lists_its_reasons() -> None:
    ring = alert(
        "ring",
        score=1.5,
        details={
            "ring_score": 7.5,
            "flag_score": 5,
            "reasons": [{"code": "patients", "points": 2, "detail": "7 patients"}, "junk"],
            "counts": {"patients": 7, "accounts": 3, "bookings": 12},
        },
    )

    found = findings([ring], departments={})[0]

    assert (found.figure, found.threshold) == ("7.5", "5")
    assert [(r.code, r.points) for r in found.reasons] == [("patients", 2.0)]
    assert found.counts["patients"] == 7


def test_a_realtime_alert_counts_the_flagged_requests_and_the_blocked_ones() -> None:
    found = findings(
        [alert("realtime_review", details={"requests": 4, "blocked": 1})], departments={}
    )[0]

    assert (found.figure, found.threshold, found.blocked_requests) == ("4", None, 1)


def test_findings_come_strongest_first() -> None:
    weak = alert("no_shows", score=1.0, alert_id=1, details={"figure": 5, "threshold": 5})
    strong = alert("no_shows", score=2.0, alert_id=2, details={"figure": 10, "threshold": 5})

    assert [f.alert_id for f in findings([weak, strong], departments={})] == [2, 1]
