"""Read and search the catalogue: hospitals (``Organization``), departments
(``HealthcareService``), doctors (``Practitioner``) and their titles
(``PractitionerRole``), through the channel catalogue's own endpoints
(``api/channel_catalog.py``): the same rate limits, the same answers."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fhir.resources.R4B.healthcareservice import HealthcareService
from fhir.resources.R4B.organization import Organization
from fhir.resources.R4B.practitioner import Practitioner
from fhir.resources.R4B.practitionerrole import PractitionerRole
from sqlalchemy.orm import Session

from fairslot.api import channel_catalog
from fairslot.api.deps import ContextDep, DbDep, commit
from fairslot.availability.schemas import DepartmentCard, HospitalCard
from fairslot.context import RequestContext
from fairslot.fhir.errors import FhirInvalid, FhirNotFound
from fairslot.fhir.http import FhirResponse, int_reference, parse_id, respond
from fairslot.fhir.paging import PageDep, searchset
from fairslot.hospitals import repository as hospitals_repo
from fairslot.hospitals.models import Department, Doctor

router = APIRouter()

HOSPITAL_CODE = "urn:fairslot:hospital-code"
DEPARTMENT_CODE = "urn:fairslot:department-code"
SPECIALTY = "urn:fairslot:specialty"
DOCTOR_TITLE = "urn:fairslot:doctor-title"


def organization(card: HospitalCard) -> Organization:
    return Organization.model_validate(
        {
            "resourceType": "Organization",
            "id": str(card.id),
            "identifier": [{"system": HOSPITAL_CODE, "value": card.code}],
            "active": True,
            "type": [{"text": card.grade}],
            "name": card.name,
            "address": [{"city": card.city}],
        }
    )


def healthcare_service(card: DepartmentCard) -> HealthcareService:
    return HealthcareService.model_validate(
        {
            "resourceType": "HealthcareService",
            "id": str(card.id),
            "identifier": [{"system": DEPARTMENT_CODE, "value": card.code}],
            "active": True,
            "providedBy": {"reference": f"Organization/{card.hospital_id}"},
            "specialty": [_specialty(card.specialty)],
            "name": card.name,
            # how the department's released slots are allocated (first_come or draw)
            "characteristic": [
                {
                    "coding": [
                        {"system": "urn:fairslot:allocation-mode", "code": card.allocation_mode}
                    ]
                }
            ],
        }
    )


def department_card(department: Department) -> DepartmentCard:
    """A department as the channel catalogue shows it (``GET /v1/.../departments``)."""
    return DepartmentCard(
        id=department.id,
        hospital_id=department.hospital_id,
        code=department.code,
        name=department.name,
        specialty=department.specialty,
        sex_restriction=department.sex_restriction,
        min_age=department.min_age,
        max_age=department.max_age,
        allocation_mode=department.allocation_mode,
    )


def practitioner(doctor: Doctor) -> Practitioner:
    return Practitioner.model_validate(
        {
            "resourceType": "Practitioner",
            "id": str(doctor.id),
            "active": True,
            "name": [{"text": doctor.name}],
        }
    )


def practitioner_role(doctor: Doctor, department: Department) -> PractitionerRole:
    return PractitionerRole.model_validate(
        {
            "resourceType": "PractitionerRole",
            "id": str(doctor.id),
            "active": True,
            "practitioner": {"reference": f"Practitioner/{doctor.id}", "display": doctor.name},
            "organization": {"reference": f"Organization/{doctor.hospital_id}"},
            "healthcareService": [{"reference": f"HealthcareService/{department.id}"}],
            "code": [{"coding": [{"system": DOCTOR_TITLE, "code": doctor.title.value}]}],
            "specialty": [_specialty(department.specialty)],
        }
    )


def _specialty(code: str) -> dict[str, Any]:
    return {"coding": [{"system": SPECIALTY, "code": code}], "text": code}


def token(raw: str | None) -> str | None:
    """The code of a token search value (``system|code`` or ``code``)."""
    return raw.rsplit("|", 1)[-1] if raw else None


def ids(raw: str | None, *, what: str) -> set[int] | None:
    return None if raw is None else {parse_id(v, what=what) for v in raw.split(",")}


# -- Organization -----------------------------------------------------------------------


@router.get("/Organization", response_class=FhirResponse)
def search_organizations(
    request: Request,
    db: DbDep,
    ctx: ContextDep,
    page: PageDep,
    _id: Annotated[str | None, Query(alias="_id", max_length=200)] = None,
    city: Annotated[str | None, Query(alias="address-city", max_length=100)] = None,
) -> FhirResponse:
    wanted = ids(_id, what="_id")
    cards = channel_catalog.hospitals(request, db, ctx, city=city, grade=None)
    found = [organization(c) for c in cards if wanted is None or c.id in wanted]
    return respond(searchset(request, matches=found, page=page))


@router.get("/Organization/{hospital_id}", response_class=FhirResponse)
def read_organization(
    hospital_id: str, request: Request, db: DbDep, ctx: ContextDep
) -> FhirResponse:
    wanted = parse_id(hospital_id, what="The Organization id")
    cards = channel_catalog.hospitals(request, db, ctx, city=None, grade=None)
    for card in cards:
        if card.id == wanted:
            return respond(organization(card))
    raise FhirNotFound("No Organization has this id.")


# -- HealthcareService --------------------------------------------------------------------


@router.get("/HealthcareService", response_class=FhirResponse)
def search_services(
    request: Request,
    db: DbDep,
    ctx: ContextDep,
    page: PageDep,
    org: Annotated[str | None, Query(alias="organization", max_length=200)] = None,
    specialty: Annotated[str | None, Query(max_length=200)] = None,
    _id: Annotated[str | None, Query(alias="_id", max_length=200)] = None,
) -> FhirResponse:
    if org is None:
        raise FhirInvalid(
            "Search HealthcareService by organization (Organization/<id>).",
            code="fhir_search_parameter_missing",
        )
    hospital_id = int_reference(org, kind="Organization")
    wanted = ids(_id, what="_id")
    cards = channel_catalog.departments(request, hospital_id, db, ctx, specialty=token(specialty))
    found = [healthcare_service(c) for c in cards if wanted is None or c.id in wanted]
    return respond(searchset(request, matches=found, page=page))


@router.get("/HealthcareService/{department_id}", response_class=FhirResponse)
def read_service(department_id: str, request: Request, db: DbDep, ctx: ContextDep) -> FhirResponse:
    department = _department(db, parse_id(department_id, what="The HealthcareService id"))
    cards = channel_catalog.departments(request, department.hospital_id, db, ctx, specialty=None)
    return respond(healthcare_service(next(c for c in cards if c.id == department.id)))


# -- Practitioner and PractitionerRole ------------------------------------------------------


@router.get("/Practitioner", response_class=FhirResponse)
def search_practitioners(
    request: Request,
    db: DbDep,
    ctx: ContextDep,
    page: PageDep,
    _id: Annotated[str | None, Query(alias="_id", max_length=200)] = None,
) -> FhirResponse:
    if _id is None:
        raise FhirInvalid(
            "Search Practitioner by _id, or PractitionerRole by service to list a "
            "department's doctors.",
            code="fhir_search_parameter_missing",
        )
    doctors = _doctors(request, db, ctx, ids(_id, what="_id") or set())
    return respond(searchset(request, matches=[practitioner(d) for d, _ in doctors], page=page))


@router.get("/Practitioner/{doctor_id}", response_class=FhirResponse)
def read_practitioner(doctor_id: str, request: Request, db: DbDep, ctx: ContextDep) -> FhirResponse:
    found = _doctors(request, db, ctx, {parse_id(doctor_id, what="The Practitioner id")})
    if not found:
        raise FhirNotFound("No Practitioner has this id.")
    return respond(practitioner(found[0][0]))


@router.get("/PractitionerRole", response_class=FhirResponse)
def search_roles(
    request: Request,
    db: DbDep,
    ctx: ContextDep,
    page: PageDep,
    service: Annotated[str | None, Query(max_length=200)] = None,
    practitioner_ref: Annotated[str | None, Query(alias="practitioner", max_length=200)] = None,
    role: Annotated[str | None, Query(alias="role", max_length=200)] = None,
) -> FhirResponse:
    """A department's doctors (``service``) or a doctor's role (``practitioner``);
    ``role`` filters by title code (e.g. ``chief``)."""
    if service is not None:
        department = _department(db, int_reference(service, kind="HealthcareService"))
        cards = channel_catalog.doctors(request, department.id, db, ctx, title=None)
        doctors = _doctors(request, db, ctx, {c.id for c in cards}, counted=False)
    elif practitioner_ref is not None:
        doctors = _doctors(request, db, ctx, {int_reference(practitioner_ref, kind="Practitioner")})
    else:
        raise FhirInvalid(
            "Search PractitionerRole by service (HealthcareService/<id>) or practitioner.",
            code="fhir_search_parameter_missing",
        )
    title = token(role)
    wanted = int_reference(practitioner_ref, kind="Practitioner") if practitioner_ref else None
    found = [
        practitioner_role(d, dep)
        for d, dep in doctors
        if title in (None, d.title.value) and wanted in (None, d.id)
    ]
    return respond(searchset(request, matches=found, page=page))


@router.get("/PractitionerRole/{doctor_id}", response_class=FhirResponse)
def read_role(doctor_id: str, request: Request, db: DbDep, ctx: ContextDep) -> FhirResponse:
    found = _doctors(request, db, ctx, {parse_id(doctor_id, what="The PractitionerRole id")})
    if not found:
        raise FhirNotFound("No PractitionerRole has this id.")
    return respond(practitioner_role(*found[0]))


def _department(db: Session, department_id: int) -> Department:
    department = hospitals_repo.departments_by_ids(db, [department_id]).get(department_id)
    if department is None:
        raise FhirNotFound("No HealthcareService has this id.", code="department_not_found")
    return department


def _doctors(
    request: Request, db: Session, ctx: RequestContext, wanted: set[int], *, counted: bool = True
) -> list[tuple[Doctor, Department]]:
    """The doctors with their departments, in id order. ``counted``: the catalogue's
    endpoint has already answered (and committed) this request."""
    doctors = hospitals_repo.doctors_by_ids(db, wanted)
    departments = hospitals_repo.departments_by_ids(db, {d.department_id for d in doctors.values()})
    found = [(d, departments[d.department_id]) for _, d in sorted(doctors.items())]
    if counted:
        commit(request, db)  # as the catalogue's own endpoints end (``done``)
    return found
