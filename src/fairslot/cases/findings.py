"""What each alert of a case found, as a reviewer weighs it: the figure the rule counted
beside the threshold it crossed ("5 paid bookings in Cardiology ≥ 5"). Pure: no I/O.

The batch stores the figure and threshold in a rule alert's ``details``
(``risk/alerts.py::hit_alert``). Alerts stored before it did carry them only in their
sentence and score: the score is ``figure / threshold`` rounded to two places
(``risk/rules.py::_score``), so the threshold is read from the sentence
("threshold 5", "more than 3 fires") and the figure recovered from the score. A ring
alert compares the ring's score with the flag score; a real-time alert counts the
requests the gate flagged.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, TypeGuard

from fairslot.cases.schemas import AlertView

RING_RULE: Final = "ring"
REALTIME_RULE: Final = "realtime_review"
AT_LEAST: Final = "at_least"
MORE_THAN: Final = "more_than"

_THRESHOLD = re.compile(r"threshold (\d+)")
_MORE_THAN = re.compile(r"more than (\d+)")


@dataclass(frozen=True)
class RingReason:
    code: str
    points: float
    detail: str


@dataclass(frozen=True, kw_only=True)
class Finding:
    alert_id: int
    rule: str
    entity_kind: str
    entity_label: str
    score: float
    explanation: str
    # The counted figure and the threshold as a person reads them ("5", "7.5"); None when
    # the alert does not say (the sentence is then all there is).
    figure: str | None = None
    threshold: str | None = None
    comparison: str = AT_LEAST
    # The one department all the alert's bookings are in, if they are in one.
    department: str | None = None
    blocked_requests: int | None = None  # a real-time alert: how many were refused
    reasons: tuple[RingReason, ...] = ()
    counts: Mapping[str, int] = field(default_factory=dict)


def findings(alerts: Iterable[AlertView], *, departments: Mapping[str, str]) -> list[Finding]:
    """One finding per alert, strongest first. ``departments`` maps booking id → the
    department's name (from the case's bookings)."""
    found = [_finding(alert, departments) for alert in alerts]
    return sorted(found, key=lambda f: (-f.score, f.alert_id))


def _finding(alert: AlertView, departments: Mapping[str, str]) -> Finding:
    details = alert.details or {}
    base: dict[str, Any] = {
        "alert_id": alert.alert_id,
        "rule": alert.rule,
        "entity_kind": alert.entity_kind,
        "entity_label": alert.entity_label,
        "score": alert.score,
        "explanation": alert.explanation,
        "department": _one_department(alert.booking_ids, departments),
    }
    if alert.rule == RING_RULE:
        return Finding(
            **base,
            figure=_shown(details.get("ring_score")),
            threshold=_shown(details.get("flag_score")),
            reasons=tuple(_reasons(details.get("reasons"))),
            counts=_counts(details.get("counts")),
        )
    if alert.rule == REALTIME_RULE:
        blocked = details.get("blocked")
        return Finding(
            **base,
            figure=_shown(details.get("requests")),
            blocked_requests=blocked if isinstance(blocked, int) else None,
        )
    figure, threshold, comparison = _figures(details, alert.explanation, alert.score)
    return Finding(
        **base,
        figure=_shown(figure),
        threshold=_shown(threshold),
        comparison=comparison,
    )


def _figures(
    details: Mapping[str, Any], explanation: str, score: float
) -> tuple[float | None, float | None, str]:
    figure, threshold = details.get("figure"), details.get("threshold")
    if _is_number(figure) and _is_number(threshold):
        comparison = MORE_THAN if details.get("comparison") == MORE_THAN else AT_LEAST
        return float(figure), float(threshold), comparison
    # An alert from before the figures were stored: read the threshold from the sentence.
    more = _MORE_THAN.search(explanation)
    plain = _THRESHOLD.search(explanation)
    found = more or plain
    if found is None:
        return None, None, AT_LEAST
    limit = int(found.group(1))
    return float(round(score * limit)), float(limit), MORE_THAN if more else AT_LEAST


def _one_department(booking_ids: Sequence[str], departments: Mapping[str, str]) -> str | None:
    names = {departments[b] for b in booking_ids if b in departments}
    return names.pop() if len(names) == 1 else None


def _reasons(value: Any) -> Iterable[RingReason]:
    if not isinstance(value, list):
        return
    for item in value:
        if isinstance(item, Mapping) and item.get("code"):
            points = item.get("points")
            yield RingReason(
                code=str(item["code"]),
                points=float(points) if _is_number(points) else 0.0,
                detail=str(item.get("detail") or ""),
            )


def _counts(value: Any) -> dict[str, int]:
    if not isinstance(value, Mapping):
        return {}
    return {str(k): int(v) for k, v in value.items() if isinstance(v, int)}


def _is_number(value: Any) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _shown(value: Any) -> str | None:
    """A figure as staff read it: whole numbers without a decimal point."""
    if not _is_number(value):
        return None
    number = float(value)
    return str(int(number)) if number.is_integer() else f"{number:.1f}"
