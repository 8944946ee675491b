"""Refusals of the review queue. Each carries a stable code a reviewer's screen can act on.

A case belongs to one reviewer while their claim is live: refusals about who holds it
are 409s (the case is in a state that does not allow this), not 403s (the role is right).
"""

from __future__ import annotations

from fairslot.errors import Conflict, InvalidInput, NotFound


class CaseNotFound(NotFound):
    code = "case_not_found"


class CaseConflict(Conflict):
    """The case is not in a state that allows this action (finer codes name why)."""

    code = "case_conflict"


class QueueEmpty(NotFound):
    """Nothing waits in the queue: a 404 with code ``queue_empty`` and a readable body."""

    code = "queue_empty"


class ReviewInputInvalid(InvalidInput):
    code = "invalid_review_input"
