"""Who is at the console: the session cookie, the role a page needs, the CSRF check.

The cookie holds a staff token (the same argon2 sign-in and token table as the staff
API, ``staff/service.py``), HttpOnly, SameSite=Strict, Secure behind HTTPS, expiring with
the token (``staff_token_hours``). Every POST carries a CSRF token bound to that session
(form field ``csrf_token`` or header ``X-CSRF-Token``). Role checks use the same table as
the staff API (``staff/permissions.py``): a page or action for a duty the roles lack is
403 ``role_required``, whatever the form says.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import Depends, Request

from fairslot.api.deps import DbDep, PlatformDep, end_lookup
from fairslot.bootstrap import Platform
from fairslot.errors import DomainError, Forbidden
from fairslot.staff import service as staff_service
from fairslot.staff.audit import StaffActor
from fairslot.staff.permissions import ROLES_FOR, Duty, may
from fairslot.web.console.menu import MenuItem, visible
from fairslot.web.security import csrf_matches, csrf_token

SESSION_COOKIE = "fairslot_console"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


class SignInRequired(DomainError):
    """No live console session: pages redirect to the sign-in form."""

    code = "sign_in_required"
    status = 401


@dataclass(frozen=True)
class ConsoleUser:
    actor: StaffActor
    display_name: str
    csrf: str
    menu: list[MenuItem]
    zone: ZoneInfo

    def may(self, duty: Duty | str) -> bool:
        return may(self.actor.roles, Duty(duty))

    @property
    def roles(self) -> list[str]:
        return sorted(role.value for role in self.actor.roles)


def _secret(platform: Platform) -> str:
    return platform.settings.effective_hash_key()


def signed_in(request: Request, db: DbDep, platform: PlatformDep) -> ConsoleUser:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise SignInRequired("Sign in to the console.")
    try:
        user = staff_service.authenticate(db, token=token, now=platform.clock.now())
    except DomainError as exc:
        raise SignInRequired("Your session has ended; sign in again.", expired=True) from exc
    actor = staff_service.actor_of(user)
    end_lookup(db)
    request.state.staff_token = token
    request.state.staff_id = actor.staff_id  # for the access log (api/access_log.py)
    return ConsoleUser(
        actor=actor,
        display_name=user.display_name,
        csrf=csrf_token(secret=_secret(platform), session_token=token),
        menu=visible(actor.roles),
        zone=ZoneInfo(platform.settings.default_timezone),
    )


SignedIn = Annotated[ConsoleUser, Depends(signed_in)]


def _refuse_unless(user: ConsoleUser, duty: Duty) -> None:
    if not user.may(duty):
        names = " or ".join(sorted(role.value for role in ROLES_FOR[duty]))
        raise Forbidden(f"This needs the {names} role.", code="role_required")


def reading(duty: Duty) -> Callable[[ConsoleUser], ConsoleUser]:
    """A page's dependency: signed in, with a role that may do ``duty``."""

    def check(user: SignedIn) -> ConsoleUser:
        _refuse_unless(user, duty)
        return user

    return check


async def posted_csrf(request: Request) -> str | None:
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    form = await request.form()  # cached on the request; the endpoint's Form() reuses it
    value = form.get(CSRF_FIELD)
    return value if isinstance(value, str) else None


PostedCsrf = Annotated[str | None, Depends(posted_csrf)]


def acting(duty: Duty) -> Callable[..., ConsoleUser]:
    """An action's dependency: signed in, the session's CSRF token, then the role."""

    def check(user: SignedIn, given: PostedCsrf) -> ConsoleUser:
        require_csrf(user, given)
        _refuse_unless(user, duty)
        return user

    return check


def require_csrf(user: ConsoleUser, given: str | None) -> None:
    if not csrf_matches(expected=user.csrf, given=given):
        raise Forbidden(
            "The form has expired or did not come from this console; reload the page "
            "and try again.",
            code="csrf_failed",
        )


def signed_in_acting(user: SignedIn, given: PostedCsrf) -> ConsoleUser:
    """A POST any member of staff may make (sign-out, password change)."""
    require_csrf(user, given)
    return user


Acting = Annotated[ConsoleUser, Depends(signed_in_acting)]


# Pages (GET): signed in with a role that may do the duty.
AnyStaff = Annotated[ConsoleUser, Depends(reading(Duty.SEE_TODAY))]
CaseReader = Annotated[ConsoleUser, Depends(reading(Duty.READ_CASES))]
BlacklistReader = Annotated[ConsoleUser, Depends(reading(Duty.KEEP_BLACKLIST))]
CallReader = Annotated[ConsoleUser, Depends(reading(Duty.MAKE_CALLS))]
ReportReader = Annotated[ConsoleUser, Depends(reading(Duty.READ_REPORTS))]
ScheduleReader = Annotated[ConsoleUser, Depends(reading(Duty.MANAGE_SCHEDULES))]
StaffReader = Annotated[ConsoleUser, Depends(reading(Duty.MANAGE_STAFF))]
AuditReader = Annotated[ConsoleUser, Depends(reading(Duty.READ_AUDIT))]
SlotTracer = Annotated[ConsoleUser, Depends(reading(Duty.TRACE_SLOTS))]
DrawReader = Annotated[ConsoleUser, Depends(reading(Duty.READ_DRAWS))]

# Actions (POST): signed in, the session's CSRF token, then the role.
CaseDecider = Annotated[ConsoleUser, Depends(acting(Duty.DECIDE_CASES))]
BlacklistKeeper = Annotated[ConsoleUser, Depends(acting(Duty.KEEP_BLACKLIST))]
CallAgent = Annotated[ConsoleUser, Depends(acting(Duty.MAKE_CALLS))]
ScheduleManager = Annotated[ConsoleUser, Depends(acting(Duty.MANAGE_SCHEDULES))]
StaffManager = Annotated[ConsoleUser, Depends(acting(Duty.MANAGE_STAFF))]
