"""``GET /fhir/metadata``: the CapabilityStatement of the IHE Scheduling Server actor.

:data:`RESOURCES` is the one declaration of what this endpoint answers; the statement is
built from it, and ``tests/fhir/test_capability.py`` walks it and calls every declared
interaction, search parameter and operation against the running server.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter
from fhir.resources.R4B.capabilitystatement import CapabilityStatement

from fairslot import __version__
from fairslot.api.deps import PlatformDep
from fairslot.fhir.appointments import INCLUDES
from fairslot.fhir.formats import FORMATS
from fairslot.fhir.http import FhirResponse, respond

router = APIRouter()

IHE_SERVER = "https://profiles.ihe.net/ITI/Scheduling/CapabilityStatement/IHE.Scheduling.server"
IHE_OPERATION = "https://profiles.ihe.net/ITI/Scheduling/OperationDefinition/appointment-{}"
APPOINTMENT_PROFILE = "https://profiles.ihe.net/ITI/Scheduling/StructureDefinition/ihe-sched-appt"


@dataclass(frozen=True)
class Declared:
    type: str
    interactions: tuple[str, ...]
    search: tuple[tuple[str, str], ...]  # (name, FHIR search parameter type)
    operations: tuple[str, ...] = ()
    includes: tuple[str, ...] = ()
    documentation: str = ""
    profile: str | None = None


RESOURCES: tuple[Declared, ...] = (
    Declared(
        "Organization",
        ("read", "search-type"),
        (("_id", "token"), ("address-city", "string")),
        documentation="A hospital.",
    ),
    Declared(
        "HealthcareService",
        ("read", "search-type"),
        (("organization", "reference"), ("specialty", "token"), ("_id", "token")),
        documentation="A department of a hospital; search needs organization.",
    ),
    Declared(
        "Practitioner",
        ("read", "search-type"),
        (("_id", "token"),),
        documentation="A doctor; list a department's doctors with PractitionerRole?service=.",
    ),
    Declared(
        "PractitionerRole",
        ("read", "search-type"),
        (("service", "reference"), ("practitioner", "reference"), ("role", "token")),
        documentation="A doctor's title (code) in a department (healthcareService); search "
        "needs service or practitioner.",
    ),
    Declared(
        "Schedule",
        ("read", "search-type"),
        (("actor", "reference"), ("date", "date")),
        documentation="A doctor's released session; search needs actor "
        "(HealthcareService/<id> or Practitioner/<id>); date covers at most 31 days.",
    ),
    Declared(
        "Slot",
        ("read", "search-type"),
        (("schedule", "reference"), ("status", "token")),
        documentation="A numbered slot of a released session (id: the slot's GUID), free or "
        "busy. Nothing unreleased exists here. Search needs schedule.",
    ),
    Declared(
        "Appointment",
        ("read", "search-type", "update"),
        (("patient", "reference"), ("date", "date"), ("status", "token")),
        operations=("find", "hold", "book"),
        includes=tuple(INCLUDES),
        profile=APPOINTMENT_PROFILE,
        documentation="The acting account's (X-Account-Id) bookings through this channel "
        "(ITI-118). update: PUT with status 'cancelled' cancels; nothing else may change.",
    ),
)


def capability_statement(*, now: str) -> CapabilityStatement:
    return CapabilityStatement.model_validate(
        {
            "resourceType": "CapabilityStatement",
            "status": "active",
            "date": now,
            "kind": "instance",
            "name": "FairslotSchedulingServer",
            "title": "fairslot: IHE ITI Scheduling Server",
            "publisher": "fairslot",
            "instantiates": [IHE_SERVER],
            "software": {"name": "fairslot", "version": __version__},
            "implementation": {"description": "The unified hospital slot pool, FHIR adapter"},
            "fhirVersion": "4.0.1",
            # json and xml: negotiated by _format, Accept and Content-Type (formats.py)
            "format": list(FORMATS),
            "rest": [
                {
                    "mode": "server",
                    "documentation": "Every rule of the JSON API applies unchanged (release "
                    "gate, real-name rules, blacklist, velocity gate, rate limits, draws). "
                    "Refusals are OperationOutcomes whose details.coding (system "
                    "urn:fairslot:error) carry the JSON API's stable code and status.",
                    "security": {
                        "cors": False,
                        "description": "X-Channel-Key: the channel's API key (required). "
                        "X-Account-Id: the account the channel acts for (Appointment reads, "
                        "searches, update, $hold and $book). X-Device-Id, X-Wifi-Id and "
                        "X-End-User-IP as in the JSON API.",
                    },
                    "resource": [_resource(r) for r in RESOURCES],
                }
            ],
        }
    )


def _resource(declared: Declared) -> dict[str, object]:
    found: dict[str, object] = {
        "type": declared.type,
        "documentation": declared.documentation,
        "interaction": [{"code": code} for code in declared.interactions],
        "searchParam": [{"name": n, "type": t} for n, t in declared.search]
        + [{"name": "_count", "type": "number"}, {"name": "_offset", "type": "number"}],
    }
    if declared.includes:
        found["searchInclude"] = list(declared.includes)
    if declared.profile:
        found["supportedProfile"] = [declared.profile]
    if declared.operations:
        found["operation"] = [
            {"name": name, "definition": IHE_OPERATION.format(name)} for name in declared.operations
        ]
    return found


@router.get("/metadata", response_class=FhirResponse)
async def metadata(platform: PlatformDep) -> FhirResponse:
    """Open to anyone, as FHIR expects: it says what the server does, nothing more."""
    return respond(capability_statement(now=platform.clock.now().date().isoformat()))
