"""Staff login, logout and "who am I"."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from fairslot.api.deps import DbDep, PlatformDep, client_ip, done
from fairslot.api.staff_deps import StaffDep
from fairslot.gate.ratelimit import Subject
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


class MeOut(BaseModel):
    username: str
    roles: list[str]


@router.post("/login", response_model=LoginOut)
def login(body: LoginIn, request: Request, db: DbDep, platform: PlatformDep) -> LoginOut:
    # Password guessing is throttled per username and per address like any other request.
    subjects = [Subject("staff_login", body.username.strip().lower())]
    ip = client_ip(request, platform)
    if ip:
        subjects.append(Subject("ip", ip))
    platform.limiter.hit(*subjects)
    user, token, row = staff_service.login(
        db,
        username=body.username,
        password=body.password,
        now=platform.clock.now(),
        hours=platform.settings.staff_token_hours,
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
def me(actor: StaffDep) -> MeOut:
    return MeOut(username=actor.username, roles=sorted(r.value for r in actor.roles))
