"""Hospital API: check-in, no-show, and the hospital's feed of bookings to carry out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from fairslot.api.booking_views import booking_view
from fairslot.api.deps import DbDep, HospitalDep, PlatformDep, done
from fairslot.api.localtime import local
from fairslot.bookings import attendance
from fairslot.bookings.schemas import BookingView, NotificationView
from fairslot.context import RequestContext
from fairslot.errors import InvalidInput
from fairslot.notifications import repository as feed
from fairslot.patients.service import patient_key_for

router = APIRouter(prefix="/hospital/v1", tags=["hospital"])


def _ctx(hospital_code: str) -> RequestContext:
    return RequestContext(actor=f"hospital:{hospital_code}")


class CheckInRequest(BaseModel):
    id_number: str | None = Field(
        None, min_length=15, max_length=18, description="the ID card shown at the desk"
    )


@router.post("/bookings/{booking_id}/check-in", response_model=BookingView)
def check_in(
    request: Request,
    booking_id: str,
    db: DbDep,
    platform: PlatformDep,
    hospital: HospitalDep,
    body: CheckInRequest | None = None,
) -> BookingView:
    presented = None
    if body is not None and body.id_number is not None:
        key = patient_key_for(body.id_number, protector=platform.protector)
        if key is None:
            raise InvalidInput(
                "The ID number shown is not a valid resident ID.", code="invalid_resident_id"
            )
        presented = key
    booking = attendance.check_in(
        db,
        hospital_id=hospital.id,
        booking_id=booking_id,
        now=platform.clock.now(),
        ctx=_ctx(hospital.code),
        presented_id_key=presented,
    )
    return done(request, db, booking_view(db, booking))


@router.post("/bookings/{booking_id}/no-show", response_model=BookingView)
def no_show(
    request: Request, booking_id: str, db: DbDep, platform: PlatformDep, hospital: HospitalDep
) -> BookingView:
    booking = attendance.mark_no_show(
        db,
        hospital_id=hospital.id,
        booking_id=booking_id,
        now=platform.clock.now(),
        ctx=_ctx(hospital.code),
    )
    return done(request, db, booking_view(db, booking))


@router.get("/feed", response_model=list[NotificationView])
def hospital_feed(
    request: Request,
    db: DbDep,
    hospital: HospitalDep,
    after: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[NotificationView]:
    """Bookings confirmed, cancelled or withdrawn, for the hospital's system to carry out
    (the platform is a proxy: every booking reaches the source). Resume with ``after``."""
    return done(
        request,
        db,
        [
            NotificationView(
                id=n.id,
                kind=n.kind,
                account_id=None,
                booking_id=n.booking_id,
                payload=n.payload,
                created_at=local(n.created_at, hospital.timezone),
            )
            for n in feed.hospital_feed(db, hospital_id=hospital.id, after=after, limit=limit)
        ],
    )
