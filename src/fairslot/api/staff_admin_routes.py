"""IT admins' staff API for staff accounts: create one, change its roles, deactivate or
reactivate it. Every change is audited by ``staff/service.py`` in the same transaction.

(IT on the server can always do the same with ``fairslot staff``, e.g. if the last IT
admin locked themselves out.)
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from fairslot.api.deps import DbDep, PlatformDep, done
from fairslot.api.localtime import local
from fairslot.api.staff_deps import ITAdminDep
from fairslot.bootstrap import Platform
from fairslot.staff import repository as staff_repo
from fairslot.staff import service as staff_service
from fairslot.staff.audit import StaffActor
from fairslot.staff.models import StaffUser
from fairslot.staff.roles import Role, parse_roles

router = APIRouter(prefix="/staff/v1/staff", tags=["staff: accounts"])

Username = Annotated[str, Path(min_length=1, max_length=64)]


class StaffCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=64)
    display_name: str = Field("", max_length=100)
    roles: list[Role] = Field(min_length=1)
    password: str = Field(
        min_length=1, max_length=256, description="At least 12 characters; stored as argon2."
    )


class RolesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    roles: list[Role] = Field(min_length=1)
    reason: str = Field(min_length=1, max_length=500, description="Why: kept in the audit log.")


class ReasonIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=500)


class StaffView(BaseModel):
    username: str
    display_name: str
    roles: list[Role]
    active: bool
    created_at: datetime
    created_by: str


def staff_view(user: StaffUser, *, tz: str) -> StaffView:
    return StaffView(
        username=user.username,
        display_name=user.display_name,
        roles=sorted(parse_roles(user.roles)),
        active=user.active,
        created_at=local(user.created_at, tz),
        created_by=user.created_by,
    )


@router.get("", response_model=list[StaffView])
def list_staff(
    actor: ITAdminDep, request: Request, db: DbDep, platform: PlatformDep
) -> list[StaffView]:
    tz = platform.settings.default_timezone
    return done(request, db, [staff_view(u, tz=tz) for u in staff_repo.listing(db)])


@router.post("", response_model=StaffView, status_code=201)
def create_staff(
    body: StaffCreate, actor: ITAdminDep, request: Request, db: DbDep, platform: PlatformDep
) -> StaffView:
    """Create a staff account (409 ``username_taken``, 422 ``password_too_short``)."""
    user = staff_service.create_user(
        db,
        username=body.username,
        display_name=body.display_name,
        roles=frozenset(body.roles),
        password=body.password,
        by=actor,
        now=platform.clock.now(),
    )
    return done(request, db, staff_view(user, tz=platform.settings.default_timezone))


@router.post("/{username}/roles", response_model=StaffView)
def set_roles(
    username: Username,
    body: RolesIn,
    actor: ITAdminDep,
    request: Request,
    db: DbDep,
    platform: PlatformDep,
) -> StaffView:
    """Replace the member's roles, with the reason; audited with who, why, before and
    after (404 ``staff_not_found``, 403 ``own_roles``: not your own, 409 ``last_it_admin``:
    the last active IT admin keeps the role, 422 ``reason_required``)."""
    user = staff_service.set_roles(
        db,
        username=username,
        roles=frozenset(body.roles),
        by=actor,
        now=platform.clock.now(),
        reason=body.reason,
    )
    return done(request, db, staff_view(user, tz=platform.settings.default_timezone))


@router.post("/{username}/deactivate", response_model=StaffView)
def deactivate(
    username: Username,
    body: ReasonIn,
    actor: ITAdminDep,
    request: Request,
    db: DbDep,
    platform: PlatformDep,
) -> StaffView:
    """Deactivate the account and end its tokens, with the reason (403 ``own_account``: not
    your own, 409 ``last_it_admin``: not the last active IT admin)."""
    return _set_active(
        request, db, platform, username=username, reason=body.reason, actor=actor, active=False
    )


@router.post("/{username}/activate", response_model=StaffView)
def activate(
    username: Username,
    body: ReasonIn,
    actor: ITAdminDep,
    request: Request,
    db: DbDep,
    platform: PlatformDep,
) -> StaffView:
    """Reactivate the account, with the reason (its old tokens stay ended)."""
    return _set_active(
        request, db, platform, username=username, reason=body.reason, actor=actor, active=True
    )


def _set_active(
    request: Request,
    db: Session,
    platform: Platform,
    *,
    username: str,
    reason: str,
    actor: StaffActor,
    active: bool,
) -> StaffView:
    user = staff_service.set_active(
        db,
        username=username,
        active=active,
        reason=reason,
        by=actor,
        now=platform.clock.now(),
    )
    return done(request, db, staff_view(user, tz=platform.settings.default_timezone))
