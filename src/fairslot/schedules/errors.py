"""Refusals when a hospital pushes or withdraws its schedule."""

from __future__ import annotations

from typing import Any

from fairslot.errors import DomainError, Forbidden, InvalidInput, NotFound

# A response listing every problem of a 20,000-row file would be unreadable; the count
# of all problems is always given.
MAX_LISTED_PROBLEMS = 500


class ScheduleInvalid(InvalidInput):
    """The document cannot be read; ``problems`` names every row and field at fault."""

    code = "schedule_invalid"

    def __init__(self, problems: list[dict[str, Any]]) -> None:
        first = problems[0] if problems else {"location": "document", "message": "invalid"}
        count = len(problems)
        summary = "1 problem" if count == 1 else f"{count} problems"
        super().__init__(
            f"The schedule has {summary}; the first: {first['location']}: {first['message']}",
            problems=problems[:MAX_LISTED_PROBLEMS],
            problem_count=count,
        )
        self.problems = problems


class ScheduleTooLarge(DomainError):
    code = "schedule_too_large"
    status = 413


class WrongHospital(Forbidden):
    code = "wrong_hospital"


class SessionNotFound(NotFound):
    code = "session_not_found"
