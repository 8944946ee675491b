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


ReviewerDep = Annotated[StaffActor, Depends(require(Role.REVIEWER))]
ITAdminDep = Annotated[StaffActor, Depends(require(Role.IT_ADMIN))]
CustomerServiceDep = Annotated[StaffActor, Depends(require(Role.CUSTOMER_SERVICE))]
SchedulerDep = Annotated[StaffActor, Depends(require(Role.SCHEDULER))]
AuditorDep = Annotated[StaffActor, Depends(require(Role.AUDITOR))]
# Reports are read by the office that acts on them and by those who audit it.
ReportReaderDep = Annotated[
    StaffActor, Depends(require(Role.REVIEWER, Role.AUDITOR, Role.IT_ADMIN))
]
