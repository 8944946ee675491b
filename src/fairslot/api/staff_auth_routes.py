"""Staff login, logout and "who am I"."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from fairslot.api import staff_signin
from fairslot.api.deps import DbDep, PlatformDep, done
from fairslot.api.staff_deps import StaffDep
from fairslot.staff import service as staff_service

router = APIRouter(prefix="/staff/v1", tags=["staff"])


class LoginIn(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class LoginOut(BaseModel):
    token: str
    expires_at: datetime
    username: str
    roles: list[str]


class FailedSignInsOut(BaseModel):
    """Failed sign-ins for this username since the member's previous sign-in."""

    count: int
    last_at: datetime | None
    last_from: str | None = Field(None, description="the address, masked: 203.0.113.x")


class MeOut(BaseModel):
    username: str
    roles: list[str]
    recent_failed_sign_ins: FailedSignInsOut


@router.post("/login", response_model=LoginOut)
def login(
    body: LoginIn,
    request: Request,
    _slot: staff_signin.SignInSlot,
    db: DbDep,
    platform: PlatformDep,
) -> LoginOut:
    # Password guessing is throttled per (username, address) and per address, never per
    # username alone (api/staff_signin.py).
    user, token, row = staff_signin.sign_in(
        request, db, platform, username=body.username, password=body.password
    )
    out = LoginOut(
        token=token,
        expires_at=row.expires_at,
        username=user.username,
        roles=sorted(user.roles.split(",")),
    )
    return done(request, db, out)


@router.post("/logout", status_code=204)
def logout(request: Request, actor: StaffDep, db: DbDep, platform: PlatformDep) -> None:
    staff_service.logout(db, token=request.state.staff_token, actor=actor, now=platform.clock.now())
    done(request, db, None)


@router.get("/me", response_model=MeOut)
def me(request: Request, actor: StaffDep, db: DbDep) -> MeOut:
    recent = staff_service.recent_failed_sign_ins(db, staff_id=actor.staff_id or 0)
    out = MeOut(
        username=actor.username,
        roles=sorted(r.value for r in actor.roles),
        recent_failed_sign_ins=FailedSignInsOut(
            count=recent.count, last_at=recent.last_at, last_from=recent.last_from
        ),
    )
    return done(request, db, out)
