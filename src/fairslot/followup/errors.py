"""Refusals of the follow-up call queue, each with a stable code."""

from __future__ import annotations

from fairslot.errors import Conflict, InvalidInput, NotFound


class CallNotFound(NotFound):
    code = "call_not_found"


class CallConflict(Conflict):
    code = "call_conflict"


class CallInputInvalid(InvalidInput):
    code = "invalid_call_input"
