"""Hospital API for schedules: push (JSON or CSV), withdraw a session, list own sessions.

A hospital's system authenticates with X-Hospital-Key and can only touch its own
schedule. Bodies are read here, within a size limit, and parsed by
``schedules.formats``, so a malformed document is a 422 naming every problem, never a 500.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from sqlalchemy.orm import Session

from fairslot.api.deps import DbDep, HospitalDep, PlatformDep, client_ip, done
from fairslot.bootstrap import Platform
from fairslot.context import RequestContext, edge_context
from fairslot.hospitals.models import Hospital
from fairslot.hospitals.schemas import CODE_PATTERN
from fairslot.schedules import formats, service, views, withdrawal
from fairslot.schedules.errors import ScheduleTooLarge
from fairslot.schedules.formats import ScheduleDocument
from fairslot.schedules.schemas import ImportReport, SessionView, WithdrawalReport, WithdrawRequest

router = APIRouter(prefix="/hospital/v1", tags=["hospital"])

# 20,000 sessions of a few hundred bytes each fit well within this.
MAX_BODY_BYTES = 16 * 1024 * 1024


async def _raw_body(request: Request) -> bytes:
    """The request body, refused as soon as it passes ``MAX_BODY_BYTES``."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise ScheduleTooLarge(
                f"The schedule is larger than {MAX_BODY_BYTES // (1024 * 1024)} MiB; "
                "split it into several pushes."
            )
        chunks.append(chunk)
    return b"".join(chunks)


RawBody = Annotated[bytes, Depends(_raw_body)]


def _ctx(request: Request, platform: Platform, hospital: Hospital) -> RequestContext:
    return edge_context(
        protector=platform.protector,
        actor=f"hospital:{hospital.code}",
        ip=client_ip(request, platform),
    )


def _import(
    db: Session,
    *,
    request: Request,
    platform: Platform,
    hospital: Hospital,
    doc: ScheduleDocument,
    now: datetime,
) -> ImportReport:
    settings = platform.settings
    return service.import_schedule(
        db,
        doc=doc,
        now=now,
        ctx=_ctx(request, platform, hospital),
        as_hospital=hospital,
        rng=platform.rng,
        late_release_minutes=(settings.late_release_min_minutes, settings.late_release_max_minutes),
    )


def _body_doc(media_type: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "requestBody": {
            "required": True,
            "description": "The schedule; see docs/schedule-format.md.",
            "content": {media_type: {"schema": schema}},
        }
    }


@router.post(
    "/schedule",
    response_model=ImportReport,
    summary="Push a schedule (JSON)",
    openapi_extra=_body_doc(
        "application/json",
        {"type": "object", "required": ["hospital"], "properties": {"hospital": {}}},
    ),
)
def push_schedule(
    hospital: HospitalDep, body: RawBody, request: Request, db: DbDep, platform: PlatformDep
) -> ImportReport:
    now = platform.clock.now()
    doc = formats.parse_json(body, today=views.local_today(hospital, now))
    return done(
        request,
        db,
        _import(db, request=request, platform=platform, hospital=hospital, doc=doc, now=now),
    )


@router.post(
    "/schedule/csv",
    response_model=ImportReport,
    summary="Push a schedule (CSV)",
    openapi_extra=_body_doc("text/csv", {"type": "string"}),
)
def push_schedule_csv(
    hospital: HospitalDep, body: RawBody, request: Request, db: DbDep, platform: PlatformDep
) -> ImportReport:
    now = platform.clock.now()
    text = _decode(body, content_type=request.headers.get("content-type", ""))
    doc = formats.parse_csv(text, today=views.local_today(hospital, now))
    return done(
        request,
        db,
        _import(db, request=request, platform=platform, hospital=hospital, doc=doc, now=now),
    )


@router.post("/sessions/{his_session_id}/withdraw", response_model=WithdrawalReport)
def withdraw_session(
    hospital: HospitalDep,
    his_session_id: Annotated[str, Path(min_length=1, max_length=64, pattern=CODE_PATTERN)],
    request: Request,
    db: DbDep,
    platform: PlatformDep,
    body: WithdrawRequest | None = None,
) -> WithdrawalReport:
    """Cancel a session (停诊): its holds and bookings are withdrawn and the channels told."""
    return done(
        request,
        db,
        withdrawal.withdraw_session(
            db,
            hospital=hospital,
            his_session_id=his_session_id,
            now=platform.clock.now(),
            ctx=_ctx(request, platform, hospital),
            reason=(body or WithdrawRequest()).reason,
        ),
    )


@router.get("/sessions", response_model=list[SessionView])
def list_sessions(
    request: Request,
    hospital: HospitalDep,
    db: DbDep,
    platform: PlatformDep,
    day: Annotated[
        date | None, Query(alias="date", description="Local date; today if not given.")
    ] = None,
) -> list[SessionView]:
    """The hospital's own sessions on a date, released or not, with slot counts by state."""
    now = platform.clock.now()
    return done(
        request,
        db,
        views.list_sessions(
            db, hospital=hospital, day=day or views.local_today(hospital, now), now=now
        ),
    )


def _decode(body: bytes, *, content_type: str) -> str:
    return formats.decode_csv(body, charset=formats.charset_of(content_type))
