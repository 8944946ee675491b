"""Domain errors carry a stable machine code and an HTTP status.

One handler in the API renders them as ``{"error": code, "detail": message}``.
"""

from __future__ import annotations

from typing import Any, ClassVar


class DomainError(Exception):
    code: ClassVar[str] = "error"
    status: ClassVar[int] = 400

    def __init__(
        self, detail: str, *, code: str | None = None, keep_changes: bool = False, **extra: Any
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        if code is not None:
            self.code = code  # type: ignore[misc]  # a finer code for this one refusal
        # A refusal normally undoes the request's work. ``keep_changes``: what the request
        # did before refusing must stand (e.g. a returned slot it handed to the waitlist).
        self.keep_changes = keep_changes
        self.extra = extra


class NotFound(DomainError):
    code = "not_found"
    status = 404


class InvalidInput(DomainError):
    code = "invalid_input"
    status = 422


class Unauthorized(DomainError):
    code = "unauthorized"
    status = 401


class Forbidden(DomainError):
    code = "forbidden"
    status = 403


class Conflict(DomainError):
    code = "conflict"
    status = 409
