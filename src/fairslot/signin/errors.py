from __future__ import annotations

from fairslot.errors import DomainError


class CodeRefused(DomainError):
    """A sign-in code that cannot be used: expired, used, wrong or out of attempts."""

    code = "code_refused"
    status = 400


class PagesUnavailable(DomainError):
    code = "pages_channel_missing"
    status = 503
