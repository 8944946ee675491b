"""Read and search ``Schedule`` (a doctor's session) and ``Slot`` (its numbered slots,
free or busy). Both are read through the channel availability endpoint
(``api/channel_booking.py::get_availability``), whose WHERE clauses are the release
gate: a session not yet released — or of a draw not yet drawn — has no Schedule and no
Slot here, exactly as it has no row in ``/v1/availability``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from fhir.resources.R4B.schedule import Schedule
from fhir.resources.R4B.slot import Slot as FhirSlot
from sqlalchemy.orm import Session

from fairslot.api import channel_booking
from fairslot.api.deps import ContextDep, DbDep, PlatformDep
from fairslot.availability import repository as availability_repo
from fairslot.availability.schemas import SessionAvailabilityView
from fairslot.bookings import repository as booking_repo
from fairslot.bootstrap import Platform
from fairslot.context import RequestContext
from fairslot.fhir.errors import FhirInvalid, FhirNotFound
from fairslot.fhir.http import FhirResponse, int_reference, parse_id, respond
from fairslot.fhir.paging import PageDep, searchset
from fairslot.hospitals import repository as hospitals_repo

router = APIRouter()
DateParam = Annotated[list[str] | None, Query(alias="date", max_length=40)]


def schedule(view: SessionAvailabilityView) -> Schedule:
    return Schedule.model_validate(
        {
            "resourceType": "Schedule",
            "id": str(view.session_id),
            "identifier": [{"system": "urn:fairslot:his-session-id", "value": view.his_session_id}],
            "active": True,
            "serviceType": [{"text": view.department_name}],
            "actor": [
                {"reference": f"Practitioner/{view.doctor_id}", "display": view.doctor_name},
                {"reference": f"PractitionerRole/{view.doctor_id}"},
                {"reference": f"HealthcareService/{view.department_id}"},
            ],
            "planningHorizon": {"start": view.starts_at, "end": view.ends_at},
            "comment": f"{view.session_date} {view.period.value}: {view.free} of "
            f"{view.capacity} free, fee {view.fee}",
        }
    )


def slot(
    view: SessionAvailabilityView, *, slot_id: str, starts: datetime, ends: datetime, free: bool
) -> FhirSlot:
    return FhirSlot.model_validate(
        {
            "resourceType": "Slot",
            "id": slot_id,
            "schedule": {"reference": f"Schedule/{view.session_id}"},
            "status": "free" if free else "busy",
            "start": starts,
            "end": ends,
        }
    )


def day_bounds(values: Sequence[str] | None) -> tuple[date | None, date | None]:
    """``date`` search values (``ge``/``gt``/``le``/``lt``/``eq`` prefixes, day or instant
    precision) as the first and last day they allow (None: unbounded)."""
    low: date | None = None
    high: date | None = None
    for raw in values or []:
        prefix, value = (raw[:2], raw[2:]) if raw[:2].isalpha() else ("eq", raw)
        try:
            day = date.fromisoformat(value[:10])
        except ValueError as exc:
            raise FhirInvalid(
                f"date {raw!r} is not a FHIR date.", code="fhir_date_invalid"
            ) from exc
        if prefix not in ("ge", "gt", "le", "lt", "eq", "sa", "eb"):
            raise FhirInvalid(f"date prefix {prefix!r} is not supported.", code="fhir_date_invalid")
        if prefix in ("ge", "sa", "eq", "gt"):
            low = day + timedelta(days=1) if prefix in ("gt", "sa") else day
        if prefix in ("le", "eb", "eq", "lt"):
            high = day - timedelta(days=1) if prefix in ("lt", "eb") else day
    return low, high


def date_range(
    values: Sequence[str] | None, *, today: date, default_days: int = 7
) -> tuple[date, date]:
    """The days a Schedule search covers: from ``today`` and for a week unless told."""
    low, high = day_bounds(values)
    low = low or today
    return low, high or low + timedelta(days=default_days - 1)


def released(
    request: Request,
    db: Session,
    platform: Platform,
    ctx: RequestContext,
    *,
    department_id: int,
    days: tuple[date, date],
) -> list[SessionAvailabilityView]:
    """The department's released sessions, as ``GET /v1/availability`` answers them."""
    return channel_booking.released(
        request, db, platform, ctx, department_id, days[0], days[1], None
    ).sessions


def visible_session(
    request: Request, db: Session, platform: Platform, ctx: RequestContext, session_id: int
) -> SessionAvailabilityView | None:
    session = booking_repo.get_session(db, session_id)
    if session is None:
        return None
    day = session.session_date
    views = released(
        request, db, platform, ctx, department_id=session.department_id, days=(day, day)
    )
    return next((v for v in views if v.session_id == session_id), None)


def slots_of(db: Session, view: SessionAvailabilityView) -> list[FhirSlot]:
    """Every slot of a released session: free where the availability lists it, else busy."""
    free = {s.slot_id for s in view.slots}
    tz = view.starts_at.tzinfo
    return [
        slot(
            view,
            slot_id=s.id,
            starts=s.starts_at.astimezone(tz),
            ends=s.ends_at.astimezone(tz),
            free=s.id in free,
        )
        for s in availability_repo.slots_of_session(db, view.session_id)
    ]


@router.get("/Schedule", response_class=FhirResponse)
def search_schedules(
    request: Request,
    db: DbDep,
    platform: PlatformDep,
    ctx: ContextDep,
    page: PageDep,
    actor: Annotated[str | None, Query(max_length=200)] = None,
    dates: DateParam = None,
) -> FhirResponse:
    """A department's (``actor=HealthcareService/<id>``) or a doctor's
    (``actor=Practitioner/<id>``) released sessions over ``date`` (at most 31 days)."""
    doctor_id: int | None = None
    if actor and "/Practitioner/" in f"/{actor}":
        doctor_id = int_reference(actor, kind="Practitioner")
        doctor = hospitals_repo.doctors_by_ids(db, [doctor_id]).get(doctor_id)
        if doctor is None:
            raise FhirNotFound("No Practitioner has this id.")
        department_id = doctor.department_id
    elif actor:
        department_id = int_reference(actor, kind="HealthcareService")
    else:
        raise FhirInvalid(
            "Search Schedule by actor (HealthcareService/<id> or Practitioner/<id>).",
            code="fhir_search_parameter_missing",
        )
    today = platform.clock.now().astimezone(ZoneInfo(platform.settings.default_timezone)).date()
    views = released(
        request, db, platform, ctx, department_id=department_id, days=date_range(dates, today=today)
    )
    found = [schedule(v) for v in views if doctor_id in (None, v.doctor_id)]
    return respond(searchset(request, matches=found, page=page))


@router.get("/Schedule/{session_id}", response_class=FhirResponse)
def read_schedule(
    session_id: str, request: Request, db: DbDep, platform: PlatformDep, ctx: ContextDep
) -> FhirResponse:
    view = visible_session(request, db, platform, ctx, parse_id(session_id, what="The Schedule id"))
    if view is None:
        raise FhirNotFound("No released Schedule has this id.")
    return respond(schedule(view))


@router.get("/Slot", response_class=FhirResponse)
def search_slots(
    request: Request,
    db: DbDep,
    platform: PlatformDep,
    ctx: ContextDep,
    page: PageDep,
    schedule_ref: Annotated[str | None, Query(alias="schedule", max_length=200)] = None,
    status: Annotated[str | None, Query(max_length=20)] = None,
) -> FhirResponse:
    """The slots of a released session (``schedule=Schedule/<id>``), ``status`` free or busy."""
    if schedule_ref is None:
        raise FhirInvalid(
            "Search Slot by schedule (Schedule/<id>); find Schedules by actor and date.",
            code="fhir_search_parameter_missing",
        )
    view = visible_session(request, db, platform, ctx, int_reference(schedule_ref, kind="Schedule"))
    found = [] if view is None else slots_of(db, view)
    wanted = status.rsplit("|", 1)[-1] if status else None
    found = [s for s in found if wanted in (None, s.status)]
    return respond(searchset(request, matches=found, page=page))


@router.get("/Slot/{slot_id}", response_class=FhirResponse)
def read_slot(
    slot_id: str, request: Request, db: DbDep, platform: PlatformDep, ctx: ContextDep
) -> FhirResponse:
    known = booking_repo.get_slot(db, slot_id[:36])
    view = None if known is None else visible_session(request, db, platform, ctx, known.session_id)
    found = [] if view is None else [s for s in slots_of(db, view) if s.id == slot_id]
    if not found:
        raise FhirNotFound("No released Slot has this id.", code="slot_not_found")
    return respond(found[0])
