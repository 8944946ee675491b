"""Refusals of staff account management and sign-in."""

from __future__ import annotations

from fairslot.errors import Conflict, Forbidden, Unauthorized


class OwnAccountChange(Forbidden):
    """No one changes their own roles (``own_roles``) or deactivates themselves
    (``own_account``): another IT admin must, and is audited for it."""

    code = "own_roles"


class LastITAdmin(Conflict):
    code = "last_it_admin"


class LoginFailed(Unauthorized):
    code = "login_failed"
