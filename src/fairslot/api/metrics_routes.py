"""The quality metrics of the Tulip report for staff: a period's figures (overall, per
hospital, per channel) and a daily trend. Reviewers, auditors and IT read them; every
reading is audited (``metrics.read``), as report readings are."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query, Request

from fairslot.api.deps import DbDep, PlatformDep, done
from fairslot.api.staff_deps import ReportReaderDep
from fairslot.metrics import service as metrics
from fairslot.metrics.facts import MAX_DAYS
from fairslot.metrics.schemas import DayFigures, QualityReport

router = APIRouter(prefix="/staff/v1/metrics", tags=["staff reports"])

MAX_ID = 2**31 - 1
HospitalId = Annotated[int | None, Query(ge=1, le=MAX_ID, description="one hospital only")]
ChannelId = Annotated[int | None, Query(ge=1, le=MAX_ID, description="one channel only")]


@router.get("", response_model=QualityReport)
def quality(
    request: Request,
    db: DbDep,
    platform: PlatformDep,
    actor: ReportReaderDep,
    date_from: Annotated[
        dt.date | None,
        Query(description="first local date; default: the 30 days ending with date_to"),
    ] = None,
    date_to: Annotated[
        dt.date | None, Query(description="last local date; default: yesterday")
    ] = None,
    hospital_id: HospitalId = None,
    channel_id: ChannelId = None,
) -> QualityReport:
    """Booking success, time to book, active accounts and retention, no-shows and scarce
    slots taken by blacklisted identities, overall and per hospital and channel (local
    dates in the platform's default zone)."""
    now, tz = platform.clock.now(), platform.settings.default_timezone
    first, last = metrics.period_or_default(now=now, tz=tz, date_from=date_from, date_to=date_to)
    report = metrics.read_quality(
        db,
        date_from=first,
        date_to=last,
        tz=tz,
        now=now,
        protector=platform.protector,
        actor=actor,
        hospital_id=hospital_id,
        channel_id=channel_id,
    )
    return done(request, db, report)


@router.get("/trend", response_model=list[DayFigures])
def trend(
    request: Request,
    db: DbDep,
    platform: PlatformDep,
    actor: ReportReaderDep,
    end: Annotated[dt.date | None, Query(description="last local date; default: yesterday")] = None,
    days: Annotated[int, Query(ge=1, le=MAX_DAYS)] = metrics.DEFAULT_DAYS,
    hospital_id: HospitalId = None,
    channel_id: ChannelId = None,
) -> list[DayFigures]:
    """One row per local day, oldest first: success rate, DAU, bookings, no-show rate and
    the blacklisted share of scarce slots."""
    now, tz = platform.clock.now(), platform.settings.default_timezone
    rows = metrics.read_trend(
        db,
        end=metrics.period_or_default(now=now, tz=tz, date_to=end)[1],
        days=days,
        tz=tz,
        now=now,
        protector=platform.protector,
        actor=actor,
        hospital_id=hospital_id,
        channel_id=channel_id,
    )
    return done(request, db, rows)
