"""Follow-up call tasks for customer service. Pure: no I/O."""

from __future__ import annotations

import enum


class CallReason(enum.StrEnum):
    FLAGGED = "flagged"  # a reviewer asked for it on a case
    SAMPLE = "sample"  # a random sample of all bookings (the baseline a reviewer compares to)
    HELP = "help"  # the patient asked for help on the patient pages ("problem booking?")


class CallStatus(enum.StrEnum):
    PENDING = "pending"
    TAKEN = "taken"  # one agent has it (locked until ``locked_until``)
    DONE = "done"


class CallOutcome(enum.StrEnum):
    GENUINE = "genuine"  # sounds like a real patient with a real need
    SUSPICIOUS = "suspicious"  # does not know the booking, a broker answers, ...
    UNREACHABLE = "unreachable"


CALL_TRANSITIONS: dict[CallStatus, frozenset[CallStatus]] = {
    CallStatus.PENDING: frozenset({CallStatus.TAKEN}),
    CallStatus.TAKEN: frozenset({CallStatus.PENDING, CallStatus.DONE}),
    CallStatus.DONE: frozenset(),
}
