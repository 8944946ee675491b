"""The hospital-side FHIR base, ``/fhir/hospital``: a hospital's system (X-Hospital-Key)
reads its own Schedules — every session of a day, released or not, with its slot
counts — through the hospital API's own endpoint (``GET /hospital/v1/sessions``).

A base of its own, not the channels' ``/fhir`` with a second key: the two audiences see
different things (a hospital sees its sessions before release; a channel never does),
so each base has its own CapabilityStatement and nothing is decided by which header
happened to come.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.schedule import Schedule

from fairslot import __version__
from fairslot.api import hospital_routes
from fairslot.api.deps import DbDep, HospitalDep, PlatformDep
from fairslot.fhir.errors import FhirInvalid
from fairslot.fhir.formats import FORMATS
from fairslot.fhir.http import FhirResponse, respond
from fairslot.fhir.paging import PageDep, searchset
from fairslot.schedules.schemas import SessionView

PREFIX = "/hospital"
router = APIRouter(prefix=PREFIX)


def schedule(view: SessionView, *, zone: ZoneInfo) -> Schedule:
    counts = ", ".join(f"{state} {n}" for state, n in sorted(view.slots.items()))
    released = "released" if view.released else f"released at {view.release_at.isoformat()}"
    return Schedule.model_validate(
        {
            "resourceType": "Schedule",
            "id": str(view.platform_session_id),
            "identifier": [{"system": "urn:fairslot:his-session-id", "value": view.session_id}],
            "active": view.status.value == "active",
            "actor": [
                {
                    "identifier": {"system": "urn:fairslot:doctor-code", "value": view.doctor},
                    "display": view.doctor_name,
                },
                {
                    "identifier": {
                        "system": "urn:fairslot:department-code",
                        "value": view.department,
                    },
                    "display": view.department_name,
                },
            ],
            "planningHorizon": {
                "start": datetime.combine(view.date, view.start, tzinfo=zone),
                "end": datetime.combine(view.date, view.end, tzinfo=zone),
            },
            "comment": f"{view.period.value}, {released}; slots: {counts}",
        }
    )


@router.get("/Schedule", response_class=FhirResponse)
def search_own_schedules(
    request: Request,
    hospital: HospitalDep,
    db: DbDep,
    platform: PlatformDep,
    page: PageDep,
    day: Annotated[str | None, Query(alias="date", max_length=12)] = None,
) -> FhirResponse:
    """The hospital's sessions on ``date`` (a day, ``eq`` or no prefix; today if none)."""
    try:
        wanted = date.fromisoformat(day.removeprefix("eq")) if day else None
    except ValueError as exc:
        raise FhirInvalid(
            f"date {day!r} must be one day (YYYY-MM-DD).", code="fhir_date_invalid"
        ) from exc
    views = hospital_routes.list_sessions(request, hospital, db, platform, wanted)
    zone = ZoneInfo(hospital.timezone)
    found = [schedule(v, zone=zone) for v in views]
    return respond(searchset(request, matches=found, page=page))


@router.get("/metadata", response_class=FhirResponse)
async def hospital_metadata(platform: PlatformDep) -> FhirResponse:
    statement = CapabilityStatement.model_validate(
        {
            "resourceType": "CapabilityStatement",
            "status": "active",
            "date": platform.clock.now().date().isoformat(),
            "kind": "instance",
            "name": "FairslotHospitalSide",
            "software": {"name": "fairslot", "version": __version__},
            "implementation": {"description": "A hospital's own schedules (X-Hospital-Key)"},
            "fhirVersion": "4.0.1",
            "format": list(FORMATS),
            "rest": [
                {
                    "mode": "server",
                    "security": {
                        "cors": False,
                        "description": "X-Hospital-Key: the hospital's API key (required).",
                    },
                    "resource": [
                        {
                            "type": "Schedule",
                            "interaction": [{"code": "search-type"}],
                            "searchParam": [
                                {"name": "date", "type": "date"},
                                {"name": "_count", "type": "number"},
                                {"name": "_offset", "type": "number"},
                            ],
                        }
                    ],
                }
            ],
        }
    )
    return respond(statement)
