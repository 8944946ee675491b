"""IT admins revoke a leaked key through the staff API: rotate a channel's or a hospital's
API key, deactivate a channel. Each is audited by the service in the same transaction;
the new key is in the answer once and never again.

The old key is refused at once: the database no longer knows it, and this process forgets
the channel keys it remembered (``HotMemos.channels``) after the commit. Other server
processes remember a key for at most one second (``memo.py::CHANNEL_FOR``), so they may
accept the old key, or the deactivated channel, within that second.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from fairslot.api.deps import DbDep, PlatformDep, done
from fairslot.api.staff_deps import ITAdminDep
from fairslot.bootstrap import Platform
from fairslot.channels import staff_actions as channel_actions
from fairslot.hospitals import keys as hospital_keys

router = APIRouter(prefix="/staff/v1", tags=["staff: keys"])

Code = Annotated[str, Path(min_length=1, max_length=32)]


class RotateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str | None = Field(None, max_length=500, description="Why (kept in the audit log).")


class DeactivateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=500, description="Why (kept in the audit log).")


class NewKey(BaseModel):
    code: str
    api_key: str = Field(description="The new key: shown this once, only its hash is kept.")


class ChannelState(BaseModel):
    code: str
    active: bool


def _forget_channel_keys(platform: Platform) -> None:
    """After the commit: a request that read the old key just before it must not put it
    back in the memo for another second."""
    platform.memos.channels.clear()


@router.post("/channels/{code}/rotate-key", response_model=NewKey)
def rotate_channel_key(
    code: Code,
    actor: ITAdminDep,
    request: Request,
    response: Response,
    db: DbDep,
    platform: PlatformDep,
    body: RotateIn | None = None,
) -> NewKey:
    """Give the channel a new API key; the old one is refused (404 ``channel_not_found``)."""
    channel, key = channel_actions.rotate_key(
        db, code=code, actor=actor, now=platform.clock.now(), reason=body.reason if body else None
    )
    out = done(request, db, NewKey(code=channel.code, api_key=key))
    _forget_channel_keys(platform)
    response.headers["Cache-Control"] = "no-store"
    return out


@router.post("/channels/{code}/deactivate", response_model=ChannelState)
def deactivate_channel(
    code: Code,
    body: DeactivateIn,
    actor: ITAdminDep,
    request: Request,
    db: DbDep,
    platform: PlatformDep,
) -> ChannelState:
    """Switch the channel off, with the reason: its key is refused and its reserved share
    stops counting (404 ``channel_not_found``, 409 ``channel_inactive``)."""
    channel = channel_actions.deactivate(
        db, code=code, reason=body.reason, actor=actor, now=platform.clock.now()
    )
    out = done(request, db, ChannelState(code=channel.code, active=channel.active))
    _forget_channel_keys(platform)
    return out


@router.post("/hospitals/{code}/rotate-key", response_model=NewKey)
def rotate_hospital_key(
    code: Code,
    actor: ITAdminDep,
    request: Request,
    response: Response,
    db: DbDep,
    platform: PlatformDep,
    body: RotateIn | None = None,
) -> NewKey:
    """Give the hospital a new API key; the old one is refused from the next request on
    (404 ``hospital_not_found``)."""
    hospital, key = hospital_keys.rotate_key(
        db, code=code, actor=actor, now=platform.clock.now(), reason=body.reason if body else None
    )
    response.headers["Cache-Control"] = "no-store"
    return done(request, db, NewKey(code=hospital.code, api_key=key))
