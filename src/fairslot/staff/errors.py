"""Refusals of staff account management and sign-in."""

from __future__ import annotations

from fairslot.errors import Conflict, DomainError, Forbidden, Unauthorized


class OwnAccountChange(Forbidden):
    """No one changes their own roles (``own_roles``) or deactivates themselves
    (``own_account``): another IT admin must, and is audited for it."""

    code = "own_roles"


class LastITAdmin(Conflict):
    code = "last_it_admin"


class LoginFailed(Unauthorized):
    code = "login_failed"


class SignInThrottled(DomainError):
    """Too many failed sign-ins from this address (for this username, or for any):
    wait ``retry_after`` seconds. Never a lock-out of the username elsewhere."""

    code = "sign_in_throttled"
    status = 429


class SignInBusy(DomainError):
    """Every password verification slot of this process stayed taken for the whole wait
    (``staff_login_concurrency``): try again in a moment."""

    code = "sign_in_busy"
    status = 429
