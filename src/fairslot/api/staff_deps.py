"""Staff authentication (``Authorization: Bearer <token>``) and the role each endpoint needs.

An endpoint declares its role with one of the aliases below, e.g. ``actor: ReviewerDep``;
the dependency refuses a missing or expired token (401 ``staff_token_invalid``) and a
member of staff without the role (403 ``role_required``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Header, Request

from fairslot.api.deps import DbDep, PlatformDep, end_lookup
from fairslot.errors import Forbidden, Unauthorized
from fairslot.staff import service as staff_service
from fairslot.staff.audit import StaffActor
from fairslot.staff.permissions import ROLES_FOR, Duty
from fairslot.staff.roles import Role


def bearer_token(authorization: str | None) -> str:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized(
            "Send the staff token as 'Authorization: Bearer <token>' (POST /staff/v1/login).",
            code="staff_token_missing",
        )
    return token.strip()


def current_staff(
    request: Request,
    db: DbDep,
    platform: PlatformDep,
    authorization: Annotated[str | None, Header()] = None,
) -> StaffActor:
    token = bearer_token(authorization)
    user = staff_service.authenticate(db, token=token, now=platform.clock.now())
    actor = staff_service.actor_of(user)
    end_lookup(db)
    request.state.staff_token = token
    request.state.staff_id = actor.staff_id  # for the access log
    return actor


StaffDep = Annotated[StaffActor, Depends(current_staff)]


def require(*roles: Role) -> Callable[[StaffActor], StaffActor]:
    """A dependency that lets through staff holding any of ``roles``."""

    def check(actor: StaffDep) -> StaffActor:
        if not any(actor.has(role) for role in roles):
            names = " or ".join(role.value for role in roles)
            raise Forbidden(f"This needs the {names} role.", code="role_required")
        return actor

    return check


def for_duty(duty: Duty) -> Callable[[StaffActor], StaffActor]:
    """A dependency that lets through staff whose roles may do ``duty``
    (``staff/permissions.py``, the table the console reads too)."""
    return require(*sorted(ROLES_FOR[duty]))


ReviewerDep = Annotated[StaffActor, Depends(for_duty(Duty.DECIDE_CASES))]
ITAdminDep = Annotated[StaffActor, Depends(for_duty(Duty.KEEP_BLACKLIST))]
CustomerServiceDep = Annotated[StaffActor, Depends(for_duty(Duty.MAKE_CALLS))]
SchedulerDep = Annotated[StaffActor, Depends(for_duty(Duty.MANAGE_SCHEDULES))]
AuditorDep = Annotated[StaffActor, Depends(for_duty(Duty.READ_AUDIT))]
ReportReaderDep = Annotated[StaffActor, Depends(for_duty(Duty.READ_REPORTS))]
