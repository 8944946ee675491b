"""Case states, the one table of allowed transitions, and the case ledger's event kinds.
Pure: no I/O.

A case gathers the alerts on one entity (a patient, a phone, a device, ...) or one ring.
The medical-affairs office takes cases from a queue, one reviewer at a time.
"""

from __future__ import annotations

import enum


class CaseStatus(enum.StrEnum):
    OPEN = "open"  # in the review queue
    IN_REVIEW = "in_review"  # taken by one reviewer (locked until ``locked_until``)
    AWAITING_CALL = "awaiting_call"  # customer service was asked for follow-up calls
    CONFIRMED = "confirmed"  # a scalper: the chosen identifiers were blacklisted
    DISMISSED = "dismissed"  # not a scalper, with a reason


CASE_TRANSITIONS: dict[CaseStatus, frozenset[CaseStatus]] = {
    CaseStatus.OPEN: frozenset({CaseStatus.IN_REVIEW}),
    CaseStatus.IN_REVIEW: frozenset(
        {
            CaseStatus.OPEN,
            CaseStatus.AWAITING_CALL,
            CaseStatus.CONFIRMED,
            CaseStatus.DISMISSED,
        }
    ),
    CaseStatus.AWAITING_CALL: frozenset({CaseStatus.OPEN}),
    CaseStatus.CONFIRMED: frozenset(),
    CaseStatus.DISMISSED: frozenset(),
}

CLOSED = frozenset({CaseStatus.CONFIRMED, CaseStatus.DISMISSED})


def can_transition(current: CaseStatus, target: CaseStatus) -> bool:
    return target in CASE_TRANSITIONS[current]


class CaseEventKind(enum.StrEnum):
    OPENED = "opened"
    ALERT_ADDED = "alert_added"
    TAKEN = "taken"
    RELEASED = "released"  # the reviewer put it back (or the lock lapsed)
    CALL_REQUESTED = "call_requested"
    CALL_OUTCOME = "call_outcome"
    CALLS_DONE = "calls_done"  # every requested call has an outcome: back to the queue
    CONFIRMED = "confirmed"
    DISMISSED = "dismissed"
