"""``Appointment``: the account's own bookings (ITI-118 Find Existing Appointments), a
booking read, and its cancellation through the standard update interaction (``PUT``
with ``status = cancelled``). Every call goes through the channel booking endpoints
(``api/channel_booking.py``, ``api/channel_accounts.py``): a booking is shown to its own
account on its own channel only, and cancelled by the same rules, ledger and waitlist."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Request
from fhir.resources.R4B.appointment import Appointment
from fhir.resources.R4B.resource import Resource
from sqlalchemy.orm import Session

from fairslot.api import channel_accounts, channel_booking
from fairslot.api.deps import ChannelDep, ContextDep, DbDep, PlatformDep
from fairslot.bookings import listing
from fairslot.bookings import repository as booking_repo
from fairslot.bookings.policy import booking_policy
from fairslot.bookings.schemas import AccountBookingView, AccountRequest, BookingView
from fairslot.bookings.states import BookingStatus
from fairslot.bootstrap import Platform
from fairslot.channels.models import Channel
from fairslot.context import RequestContext
from fairslot.fhir import catalog
from fairslot.fhir.catalog import SPECIALTY, token
from fairslot.fhir.errors import FhirInvalid
from fairslot.fhir.http import (
    FhirResponse,
    account_header,
    int_reference,
    respond,
    validated,
)
from fairslot.fhir.paging import PageDep, searchset
from fairslot.fhir.schedule import day_bounds
from fairslot.hospitals import repository as hospitals_repo

router = APIRouter()
AccountDep = Annotated[int, Depends(account_header)]

APPOINTMENT_PROFILE = "https://profiles.ihe.net/ITI/Scheduling/StructureDefinition/ihe-sched-appt"
BOOKING_ID = "urn:fairslot:booking-id"

# A booking's state as an appointment's. A lapsed hold and a withdrawn session end the
# appointment like a cancellation (``cancelationReason`` says which).
STATUS = {
    BookingStatus.HELD: "pending",
    BookingStatus.BOOKED: "booked",
    BookingStatus.EXPIRED: "cancelled",
    BookingStatus.CANCELLED: "cancelled",
    BookingStatus.CHECKED_IN: "arrived",
    BookingStatus.NO_SHOW: "noshow",
    BookingStatus.WITHDRAWN: "cancelled",
}


def appointment(db: Session, view: BookingView) -> Appointment:
    """The booking as an IHE ITI Scheduling Appointment."""
    place = booking_repo.booking_place(db, view.booking_id)
    assert place is not None  # the view was just read from it
    session, patient_id = place.session, place.booking.patient_id
    data: dict[str, Any] = {
        "resourceType": "Appointment",
        "id": view.booking_id,
        "meta": {"profile": [APPOINTMENT_PROFILE]},
        "identifier": [{"system": BOOKING_ID, "value": view.booking_id}],
        "status": STATUS[view.status],
        "start": view.slot_starts_at,
        "end": view.slot_ends_at,
        "created": view.held_at,
        "slot": [{"reference": f"Slot/{view.slot_id}"}],
        "participant": [
            _actor(f"Patient/{patient_id}"),
            _actor(f"Practitioner/{session.doctor_id}"),
            _actor(f"PractitionerRole/{session.doctor_id}"),
            _actor(f"HealthcareService/{view.department_id}"),
        ],
        "comment": f"No. {view.slot_number}, session {view.his_session_id}",
    }
    if data["status"] == "cancelled":
        data["cancelationReason"] = {
            "coding": [{"system": "urn:fairslot:booking-status", "code": view.status.value}]
        }
    return Appointment.model_validate(data)


def proposed(
    *,
    slot_id: str,
    starts: datetime,
    ends: datetime,
    doctor_id: int,
    department_id: int,
    specialty: str,
    patient_id: int | None,
) -> Appointment:
    """A free slot offered by ``$find``. Its id names the slot (and the patient it was
    found for), so that ``$hold`` given only this reference knows what to hold."""
    participants = [
        _actor(f"Practitioner/{doctor_id}", status="needs-action"),
        _actor(f"HealthcareService/{department_id}", status="needs-action"),
    ]
    if patient_id is not None:
        participants.insert(0, _actor(f"Patient/{patient_id}", status="needs-action"))
    return Appointment.model_validate(
        {
            "resourceType": "Appointment",
            "id": proposed_id(slot_id=slot_id, patient_id=patient_id),
            "meta": {"profile": [APPOINTMENT_PROFILE]},
            "status": "proposed",
            "specialty": [{"coding": [{"system": SPECIALTY, "code": specialty}]}],
            "start": starts,
            "end": ends,
            "slot": [{"reference": f"Slot/{slot_id}"}],
            "participant": participants,
        }
    )


def proposed_id(
    *, slot_id: str | None = None, session_id: int | None = None, patient_id: int | None
) -> str:
    """The id of a proposed appointment: ``slot-<GUID>`` (a free slot from ``$find``) or
    ``session-<id>`` (an alternative offered with a refusal: any free slot of that
    session), with ``.patient-<id>`` for the patient it was proposed to."""
    suffix = f".patient-{patient_id}" if patient_id is not None else ""
    return f"slot-{slot_id}{suffix}" if slot_id is not None else f"session-{session_id}{suffix}"


@dataclass(frozen=True)
class Target:
    """What a proposed appointment's id asks ``$hold`` to hold (one of slot or session)."""

    slot_id: str | None
    session_id: int | None
    patient_id: int | None


def proposed_target(appointment_id: str) -> Target:
    """The slot (or session) and patient named by a proposed appointment's id."""
    kind, _, rest = appointment_id.partition("-")
    target, _, patient_part = rest.partition(".patient-")
    patient_id = int(patient_part) if patient_part.isdigit() else None
    if kind == "slot" and target:
        return Target(slot_id=target, session_id=None, patient_id=patient_id)
    if kind == "session" and target.isdigit():
        return Target(slot_id=None, session_id=int(target), patient_id=patient_id)
    raise FhirInvalid(
        "Hold a proposed Appointment returned by $find (Appointment/slot-<slot id>) or "
        "offered with a refusal (Appointment/session-<session id>).",
        code="fhir_reference_invalid",
    )


def _actor(reference: str, *, status: str = "accepted") -> dict[str, Any]:
    return {"actor": {"reference": reference}, "required": "required", "status": status}


@router.get("/Appointment/{booking_id}", response_class=FhirResponse)
def read_appointment(
    booking_id: str,
    request: Request,
    db: DbDep,
    channel: ChannelDep,
    _: ContextDep,
    account_id: AccountDep,
) -> FhirResponse:
    view = channel_booking.get_booking(request, booking_id[:36], db, channel, account_id)
    return respond(appointment(db, view))


@router.get("/Appointment", response_class=FhirResponse)
def search_appointments(
    request: Request,
    db: DbDep,
    platform: PlatformDep,
    ctx: ContextDep,
    account_id: AccountDep,
    page: PageDep,
    patient: Annotated[str | None, Query(max_length=200)] = None,
    dates: Annotated[list[str] | None, Query(alias="date", max_length=40)] = None,
    status: Annotated[str | None, Query(max_length=100)] = None,
) -> FhirResponse:
    """ITI-118: the account's appointments through this channel, latest visit first;
    ``patient`` (Patient/<id>), ``date`` (ge/le/eq, days) and ``status`` narrow them;
    ``_include`` adds their practitioners, roles and departments."""
    found = _search(request, db, platform, ctx, account_id, patient, dates, status)
    if "patient.identifier" in request.query_params:
        # ITI-118: an identifier system the server cannot process answers 0 entries. A
        # patient's identifiers (resident ids) are held only as keyed hashes here.
        found = []
    kinds = _included_kinds(request.query_params.getlist("_include"))
    include = (lambda shown: _included(db, shown, kinds)) if kinds else None
    return respond(searchset(request, matches=found, page=page, include=include))


# ``_include`` values and the participant kinds each brings in.
INCLUDES = {
    "Appointment:actor": ("Practitioner", "PractitionerRole", "HealthcareService"),
    "Appointment:practitioner": ("Practitioner",),
    "Appointment:actor:Practitioner": ("Practitioner",),
    "Appointment:actor:PractitionerRole": ("PractitionerRole",),
    "Appointment:actor:HealthcareService": ("HealthcareService",),
}


def _included_kinds(values: list[str]) -> set[str]:
    kinds: set[str] = set()
    for value in values:
        if value not in INCLUDES:
            raise FhirInvalid(
                f"_include {value!r} is not supported; use one of {', '.join(INCLUDES)}.",
                code="fhir_parameter_invalid",
            )
        kinds.update(INCLUDES[value])
    return kinds


def _included(db: Session, shown: Sequence[Resource], kinds: set[str]) -> list[Resource]:
    """The participants of the shown appointments, each once."""
    refs = {
        p.actor.reference
        for a in shown
        if isinstance(a, Appointment)
        for p in a.participant or []
        if p.actor is not None and p.actor.reference
    }
    wanted = {
        kind: {int(r.split("/")[1]) for r in refs if r.startswith(f"{kind}/")} for kind in kinds
    }
    doctor_ids = wanted.get("Practitioner", set()) | wanted.get("PractitionerRole", set())
    doctors = hospitals_repo.doctors_by_ids(db, doctor_ids)
    departments = hospitals_repo.departments_by_ids(
        db,
        {d.department_id for d in doctors.values()} | wanted.get("HealthcareService", set()),
    )
    found: list[Resource] = []
    for doctor_id in sorted(wanted.get("Practitioner", set())):
        found.append(catalog.practitioner(doctors[doctor_id]))
    for doctor_id in sorted(wanted.get("PractitionerRole", set())):
        doctor = doctors[doctor_id]
        found.append(catalog.practitioner_role(doctor, departments[doctor.department_id]))
    for department_id in sorted(wanted.get("HealthcareService", set())):
        found.append(
            catalog.healthcare_service(catalog.department_card(departments[department_id]))
        )
    return found


def _search(
    request: Request,
    db: Session,
    platform: Platform,
    ctx: RequestContext,
    account_id: int,
    patient: str | None,
    dates: list[str] | None,
    status: str | None,
) -> list[Appointment]:
    patient_id = int_reference(patient, kind="Patient") if patient else None
    low, high = day_bounds(dates)
    statuses = {token(s) for s in status.split(",")} if status else None
    rows = [
        row
        for row in _every_booking(request, db, platform, ctx, account_id=account_id)
        if patient_id in (None, row.patient_id)
        and (low or date.min) <= row.session_date <= (high or date.max)
        and (statuses is None or STATUS[row.status] in statuses)
    ]
    return [appointment(db, row) for row in rows]


@router.put("/Appointment/{booking_id}", response_class=FhirResponse)
def update_appointment(
    booking_id: str,
    body: Annotated[dict[str, Any], Body()],
    request: Request,
    db: DbDep,
    platform: PlatformDep,
    ctx: ContextDep,
    channel: ChannelDep,
    account_id: AccountDep,
) -> FhirResponse:
    """Cancel the account's appointment: ``PUT`` it back with ``status = cancelled``.
    Nothing else of a booking can be written; a change of time is a new hold."""
    sent = validated(Appointment, body)
    if sent.id not in (None, booking_id):
        raise FhirInvalid("The Appointment's id must be the one in the URL.")
    if sent.status != "cancelled":
        raise FhirInvalid(
            "Only a cancellation can be written: send the Appointment with status "
            "'cancelled' (a new time is a new $find and $hold).",
            code="fhir_update_unsupported",
        )
    return respond(cancel(request, db, platform, ctx, channel, booking_id, account_id=account_id))


def cancel(
    request: Request,
    db: Session,
    platform: Platform,
    ctx: RequestContext,
    channel: Channel,
    booking_id: str,
    *,
    account_id: int,
) -> Appointment:
    """Cancel through ``POST /v1/bookings/{id}/cancel``'s own function (shared by ``PUT``
    and ``$book`` with a cancelled appointment)."""
    view = channel_booking.cancel_booking(
        booking_id[:36], AccountRequest(account_id=account_id), request, db, platform, ctx, channel
    )
    return appointment(db, view)


def _every_booking(
    request: Request, db: Session, platform: Platform, ctx: RequestContext, *, account_id: int
) -> Iterable[AccountBookingView]:
    """All the account's bookings through the channel (ITI-118 needs their ``total``):
    the first page through ``GET /v1/accounts/{id}/bookings``'s own function (its account
    checks, rate limit and request record), the rest from the same listing service."""
    first = channel_accounts.list_bookings(
        account_id, request, db, platform, ctx, limit=listing.MAX_PAGE, offset=0
    )
    yield from first.items
    offset = first.next_offset
    while offset is not None:
        more = listing.account_bookings(
            db,
            account_id=account_id,
            channel_id=ctx.channel_id or 0,
            now=platform.clock.now(),
            limits=booking_policy(platform.settings).limits,
            limit=listing.MAX_PAGE,
            offset=offset,
        )
        yield from more.items
        offset = more.next_offset
