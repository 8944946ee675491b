"""The simulated reviewer's decision rule: a case's evidence in, a decision out. Pure: no I/O.

The simulator plays the medical-affairs office after the daily batch. It decides from what
``POST /staff/v1/cases/next`` shows a human reviewer — the case's alerts and the identifiers
it may block — and never from what the simulator knows about who is a scalper.

The rule, stated once (every decision's reason quotes it):

* **confirm** when the evidence is strong:

  1. the batch flagged a **ring** in the case (a ``ring`` alert: the batch flags a group
     only when both its structure and its booking behaviour look like a ring), or
  2. alerts of **two or more different rules** agree on the case, or
  3. one alert counts **at least twice its rule's threshold** (score >= 2.0), or
  4. alerts name **two or more different devices or payment accounts** that each tie
     the case's people together beyond a household (an operator rotating its devices
     or purses over its identities: each identifier is a witness of its own; a family
     has one tablet and one card);

  and then block every identifier the case lists in the scopes ``patient``, ``phone``,
  ``device`` and ``payment``. Accounts die with their phone and patient; networks are not
  blocked, since a home or carrier network is shared by strangers.
* **dismiss** otherwise: a single rule at its threshold is what a genuine patient with a bad
  week looks like.

Every reason starts with ``simulated reviewer:`` so that the audit trail and the case
history say the decision was not a person's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

REASON_PREFIX = "simulated reviewer:"
RING_RULE = "ring"
# The gate's own flags on a device say how fast it went, not whom it ties together.
REALTIME_RULE = "realtime_review"
STRONG_SCORE = 2.0
MIN_RULES = 2
MIN_IDENTIFIERS = 2
# Identifiers a stranger does not share by accident (a network a carrier or a family does).
STRONG_KINDS = frozenset({"device", "payment_account"})
BLOCK_SCOPES = ("patient", "phone", "device", "payment")


@dataclass(frozen=True)
class Decision:
    confirm: bool
    scopes: tuple[str, ...]  # empty when dismissed
    reason: str


def decide(evidence: Mapping[str, Any]) -> Decision:
    """The decision on one case from its evidence (the ``CaseEvidence`` JSON)."""
    alerts: Sequence[Mapping[str, Any]] = evidence.get("alerts") or []
    rules = sorted({str(a.get("rule")) for a in alerts})
    strongest = max((float(a.get("score") or 0.0) for a in alerts), default=0.0)
    offered = {str(c.get("scope")) for c in evidence.get("candidates") or []}
    scopes = tuple(s for s in BLOCK_SCOPES if s in offered)
    grounds: list[str] = []
    if RING_RULE in rules:
        grounds.append("the batch flagged a ring")
    if len(rules) >= MIN_RULES:
        grounds.append(f"{len(rules)} rules agree ({', '.join(rules)})")
    if strongest >= STRONG_SCORE:
        grounds.append(f"an alert at {strongest:g}x its threshold")
    witnesses = {
        (str(a.get("entity_kind")), str(a.get("entity_label")))
        for a in alerts
        if a.get("entity_kind") in STRONG_KINDS and a.get("rule") != REALTIME_RULE
    }
    if len(witnesses) >= MIN_IDENTIFIERS:
        grounds.append(f"{len(witnesses)} different devices or payment accounts link it")
    if grounds and scopes:
        return Decision(
            confirm=True,
            scopes=scopes,
            reason=f"{REASON_PREFIX} confirmed: {'; '.join(grounds)}; blocking {', '.join(scopes)}",
        )
    why = (
        "no scope to block"
        if grounds
        else f"weak evidence: {', '.join(rules) or 'no alert'} at {strongest:g}x threshold"
    )
    return Decision(confirm=False, scopes=(), reason=f"{REASON_PREFIX} dismissed: {why}")
