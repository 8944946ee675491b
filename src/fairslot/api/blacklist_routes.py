"""IT admins' staff API for the blacklist: block an identifier, list the entries, and lift
one after the person came to the hospital in person.

Identifiers are sent in the clear once, stored only as keyed hashes, and shown masked.
Every change is audited by ``blacklist/service.py`` in the same transaction.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from fairslot.api.deps import DbDep, PlatformDep, done
from fairslot.api.localtime import local, local_or_none
from fairslot.api.staff_deps import ITAdminDep
from fairslot.blacklist import repository as repo
from fairslot.blacklist import service
from fairslot.blacklist.models import BlacklistEntry, Scope
from fairslot.sanctions import service as sanctions

router = APIRouter(prefix="/staff/v1/blacklist", tags=["staff: blacklist"])

_MAX_ID = 2**31 - 1
EntryId = Annotated[int, Path(ge=1, le=_MAX_ID)]


class BlockIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    scope: Scope
    value: str = Field(
        min_length=1,
        max_length=128,
        description="The identifier in the clear (resident ID, phone, account id, device id, "
        "IP or Wi-Fi id, payment account); stored only as a keyed hash.",
    )
    reason: str = Field(min_length=1, max_length=500)
    days: int | None = Field(None, ge=1, le=3650, description="Omitted or null: permanent.")
    case_id: int | None = Field(None, ge=1, le=_MAX_ID)


class LiftIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    checked: str = Field(
        min_length=1,
        max_length=500,
        description="What was checked with the person at the service desk.",
        examples=["ID card seen; booking history explained; phone is the patient's own"],
    )


class EntryView(BaseModel):
    id: int
    scope: Scope
    label: str  # masked identifier
    reason: str
    case_ref: str | None
    created_by: str
    created_at: datetime
    expires_at: datetime | None
    in_force: bool
    lifted_at: datetime | None
    lifted_by: str | None
    lift_note: str | None


def entry_view(entry: BlacklistEntry, *, now: datetime, tz: str) -> EntryView:
    return EntryView(
        id=entry.id,
        scope=entry.scope,
        label=entry.label,
        reason=entry.reason,
        case_ref=entry.case_ref,
        created_by=entry.created_by,
        created_at=local(entry.created_at, tz),
        expires_at=local_or_none(entry.expires_at, tz),
        in_force=service.in_force(entry, now=now),
        lifted_at=local_or_none(entry.lifted_at, tz),
        lifted_by=entry.lifted_by,
        lift_note=entry.lift_note,
    )


@router.post("", response_model=EntryView, status_code=201)
def block(
    body: BlockIn, actor: ITAdminDep, request: Request, db: DbDep, platform: PlatformDep
) -> EntryView:
    """Block an identifier through every channel (409 ``already_blocked``, 422
    ``invalid_identifier``, 404 ``case_not_found``)."""
    now = platform.clock.now()
    entry = sanctions.block(
        db,
        scope=body.scope,
        value=body.value,
        reason=body.reason,
        actor=actor,
        now=now,
        protector=platform.protector,
        days=body.days,
        case_ref=service.case_ref_for(db, case_id=body.case_id) if body.case_id else None,
    ).entry
    view = entry_view(entry, now=now, tz=platform.settings.default_timezone)
    return done(request, db, view)


@router.get("", response_model=list[EntryView])
def listing(
    actor: ITAdminDep,
    request: Request,
    db: DbDep,
    platform: PlatformDep,
    all_: Annotated[bool, Query(alias="all", description="Include lifted and expired.")] = False,
    before_id: Annotated[int | None, Query(ge=1, le=_MAX_ID)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[EntryView]:
    """Entries in force, newest first (``?all=true``: every entry); page with
    ``before_id`` = the last id seen."""
    now = platform.clock.now()
    rows = repo.entries(db, now=now, include_inactive=all_, before_id=before_id, limit=limit)
    tz = platform.settings.default_timezone
    return done(request, db, [entry_view(e, now=now, tz=tz) for e in rows])


@router.post("/{entry_id}/lift", response_model=EntryView)
def lift(
    entry_id: EntryId,
    body: LiftIn,
    actor: ITAdminDep,
    request: Request,
    db: DbDep,
    platform: PlatformDep,
) -> EntryView:
    """Lift a block after an in-person appeal at the service desk, recording what was
    checked (404 ``entry_not_found``, 409 ``already_lifted``)."""
    now = platform.clock.now()
    entry = service.lift_in_person(
        db, entry_id=entry_id, actor=actor, checked=body.checked, now=now
    )
    view = entry_view(entry, now=now, tz=platform.settings.default_timezone)
    return done(request, db, view)
