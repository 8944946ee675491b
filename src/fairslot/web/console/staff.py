"""Console pages: staff accounts (IT admins).

List the accounts with their roles; create one with its roles and an initial password;
change an account's roles with a reason; deactivate or reactivate it with a reason — the
same service as ``/staff/v1/staff`` (``staff/service.py``), which audits every change in
the request's transaction. The console adds no rule of its own: what the service allows,
the page allows.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session

from fairslot.api.deps import DbDep, PlatformDep, done
from fairslot.bootstrap import Platform
from fairslot.staff import service as staff_service
from fairslot.staff.models import StaffUser
from fairslot.staff.roles import Role, parse_roles
from fairslot.staff.service import MIN_PASSWORD_LENGTH
from fairslot.web.console.deps import ConsoleUser, StaffManager, StaffReader
from fairslot.web.console.pages import after, page

router = APIRouter(prefix="/console", include_in_schema=False)

MENU = "staff"
Username = Annotated[str, Path(min_length=1, max_length=64)]
RolesForm = Annotated[list[Role], Form()]


def _account(user: StaffUser) -> dict[str, object]:
    return {
        "username": user.username,
        "display_name": user.display_name,
        "roles": sorted(role.value for role in parse_roles(user.roles)),
        "active": user.active,
        "created_at": user.created_at,
        "created_by": user.created_by,
    }


@router.get("/staff", response_class=HTMLResponse)
def listing(request: Request, user: StaffReader, db: DbDep) -> HTMLResponse:
    """Every account with its roles, and the form for a new one."""
    accounts = [_account(row) for row in staff_service.list_staff(db)]
    context = {
        "accounts": accounts,
        "all_roles": [role.value for role in Role],
        "min_password": MIN_PASSWORD_LENGTH,
    }
    return page(request, "console/staff.html", user, done(request, db, context), active=MENU)


@router.post("/staff")
def create(
    request: Request,
    user: StaffManager,
    db: DbDep,
    platform: PlatformDep,
    username: Annotated[str, Form(max_length=64)] = "",
    display_name: Annotated[str, Form(max_length=100)] = "",
    password: Annotated[str, Form(max_length=256)] = "",
    roles: RolesForm = [],  # noqa: B006 - FastAPI copies form defaults
) -> RedirectResponse:
    """Create an account, as ``POST /staff/v1/staff`` does."""
    created = staff_service.create_user(
        db,
        username=username,
        display_name=display_name,
        roles=frozenset(roles),
        password=password,
        by=user.actor,
        now=platform.clock.now(),
    )
    done(request, db, created)
    return after(f"/console/staff/{created.username}", done="staff_created")


@router.get("/staff/{username}", response_class=HTMLResponse)
def account(request: Request, username: Username, user: StaffReader, db: DbDep) -> HTMLResponse:
    """One account: its roles and state, and the forms to change them."""
    found = _account(staff_service.get_staff(db, username=username))
    context = {"account": found, "all_roles": [role.value for role in Role]}
    return page(
        request, "console/staff_account.html", user, done(request, db, context), active=MENU
    )


@router.post("/staff/{username}/roles")
def set_roles(
    request: Request,
    username: Username,
    user: StaffManager,
    db: DbDep,
    platform: PlatformDep,
    reason: Annotated[str, Form(max_length=500)] = "",
    roles: RolesForm = [],  # noqa: B006 - FastAPI copies form defaults
) -> RedirectResponse:
    """Replace the account's roles, as ``POST /staff/v1/staff/{username}/roles`` does;
    audited with the roles before and after and the reason."""
    changed = staff_service.set_roles(
        db,
        username=username,
        roles=frozenset(roles),
        by=user.actor,
        now=platform.clock.now(),
        reason=reason or None,
    )
    done(request, db, changed)
    return after(f"/console/staff/{changed.username}", done="staff_roles_changed")


@router.post("/staff/{username}/deactivate")
def deactivate(
    request: Request,
    username: Username,
    user: StaffManager,
    db: DbDep,
    platform: PlatformDep,
    reason: Annotated[str, Form(max_length=500)] = "",
) -> RedirectResponse:
    """Deactivate the account and end its sessions, with the reason."""
    return _set_active(request, db, platform, user, username=username, reason=reason, on=False)


@router.post("/staff/{username}/activate")
def activate(
    request: Request,
    username: Username,
    user: StaffManager,
    db: DbDep,
    platform: PlatformDep,
    reason: Annotated[str, Form(max_length=500)] = "",
) -> RedirectResponse:
    """Reactivate the account, with the reason (its old sessions stay ended)."""
    return _set_active(request, db, platform, user, username=username, reason=reason, on=True)


def _set_active(
    request: Request,
    db: Session,
    platform: Platform,
    user: ConsoleUser,
    *,
    username: str,
    reason: str,
    on: bool,
) -> RedirectResponse:
    changed = staff_service.set_active(
        db, username=username, active=on, reason=reason, by=user.actor, now=platform.clock.now()
    )
    done(request, db, changed)
    key = "staff_activated" if on else "staff_deactivated"
    return after(f"/console/staff/{changed.username}", done=key)
