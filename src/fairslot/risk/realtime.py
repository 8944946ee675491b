"""The real-time gate's review and block decisions as alerts. Pure: no I/O.

The gate lets a suspicious request through with a **review** decision (or refuses it with
a **block**) and records it with its reasons (``gate/realtime.py``). The daily batch turns
the report day's recorded decisions into ``realtime_review`` alerts, one per flagged
account (or per device, for a request made before any account existed), so they land in
cases like every other alert and a reviewer judges them with the rest of the evidence.
A subject flagged only once (and never blocked) that day gets no alert: see
``RiskSettings.realtime_min_requests``; a review for a binding burst alone is a family's
first day, not evidence (:data:`FAMILY_REASONS`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Final, Protocol

from fairslot.risk.alerts import SCOPE_OF, AlertDraft, Hasher, Labels, entity
from fairslot.risk.report import REALTIME_REVIEW_RULE
from fairslot.risk.rules import EntityKind

# A reviewed request scores like one threshold hit; each further one and each block adds
# to it, so an account the gate flagged all day ranks above one flagged once.
BASE_SCORE: Final = 1.0
PER_EXTRA_REQUEST: Final = 0.25
PER_BLOCK: Final = 0.5
MAX_SCORE: Final = 3.0
# An alert lists at most this many requests in its details (the counts are kept).
MAX_LISTED: Final = 50
# Reasons that describe what a family does on its first day: registering, then binding its
# members one after another (the platform lets an account bind four). Let through for
# review, such a request alone is no evidence against anyone — dozens of genuine families
# flagged this way buried the queue (issue 11, "queue noise"). It still counts when the
# gate blocked it (a burst past the block threshold), or together with another reason.
FAMILY_REASONS: Final = frozenset({"binding_burst"})


def is_evidence(request: FlaggedRequestLike) -> bool:
    """Whether a flagged request counts against its account: blocked, or reviewed for at
    least one reason a family's first day does not explain."""
    return request.decision == "block" or bool(set(request.reasons) - FAMILY_REASONS)


class FlaggedRequestLike(Protocol):
    """What the gate recorded of one flagged request (``gate/repository.py``)."""

    @property
    def id(self) -> int: ...
    @property
    def at(self) -> datetime: ...
    @property
    def action(self) -> str: ...
    @property
    def decision(self) -> str: ...
    @property
    def reasons(self) -> tuple[str, ...]: ...
    @property
    def account_id(self) -> int | None: ...
    @property
    def device_key(self) -> str | None: ...
    @property
    def booking_id(self) -> str | None: ...


@dataclass(frozen=True)
class _Subject:
    kind: EntityKind
    raw: str


def _subject(request: FlaggedRequestLike) -> _Subject | None:
    """The account the request acted for; else its device; else nothing to alert on."""
    if request.account_id is not None:
        return _Subject(EntityKind.ACCOUNT, str(request.account_id))
    if request.device_key:
        return _Subject(EntityKind.DEVICE, request.device_key)
    return None


def realtime_alerts(
    requests: Iterable[FlaggedRequestLike],
    *,
    hasher: Hasher,
    labels: Labels,
    min_requests: int = 1,
) -> list[AlertDraft]:
    """One ``realtime_review`` alert per account or device the gate flagged at least
    ``min_requests`` times or blocked at least once, oldest request first in its details;
    evidence is the bookings the flagged requests made or acted on."""
    grouped: dict[_Subject, list[FlaggedRequestLike]] = {}
    for request in requests:
        if not is_evidence(request):
            continue
        subject = _subject(request)
        if subject is not None:
            grouped.setdefault(subject, []).append(request)
    drafts = []
    for subject, flagged in grouped.items():
        flagged.sort(key=lambda r: (r.at, r.id))
        blocks = sum(1 for r in flagged if r.decision == "block")
        if len(flagged) < min_requests and not blocks:
            continue
        reasons = Counter(code for r in flagged for code in r.reasons)
        score = min(
            MAX_SCORE,
            BASE_SCORE + PER_EXTRA_REQUEST * (len(flagged) - 1) + PER_BLOCK * blocks,
        )
        found = entity(subject.kind, subject.raw, hasher=hasher, labels=labels)
        drafts.append(
            AlertDraft(
                rule=REALTIME_REVIEW_RULE,
                entity=found,
                score=round(score, 2),
                explanation=_explanation(len(flagged), blocks, reasons),
                booking_ids=tuple(sorted({r.booking_id for r in flagged if r.booking_id})),
                details={
                    "scope": SCOPE_OF[subject.kind],
                    "requests": len(flagged),
                    "blocked": blocks,
                    "reasons": dict(sorted(reasons.items())),
                    "listed": [
                        {
                            "request_id": r.id,
                            "at": r.at.isoformat(),
                            "action": r.action,
                            "decision": r.decision,
                            "reasons": list(r.reasons),
                            "booking_id": r.booking_id,
                        }
                        for r in flagged[:MAX_LISTED]
                    ],
                },
            )
        )
    return sorted(drafts, key=lambda d: (-d.score, d.entity.key))


def _explanation(requests: int, blocks: int, reasons: Counter[str]) -> str:
    codes = ", ".join(f"{code} ×{n}" for code, n in sorted(reasons.items())) or "no reason"
    reviewed = requests - blocks
    return (
        f"the real-time gate flagged {requests} request(s) "
        f"({reviewed} let through for review, {blocks} blocked): {codes}"
    )
