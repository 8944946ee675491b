"""The IHE ITI Scheduling operations: ``Appointment/$find`` (ITI-115), ``$hold``
(ITI-116) and ``$book`` (ITI-117).

Each one calls the JSON API's own endpoint's work — ``get_availability``,
``hold_work`` (``create_hold``'s), ``confirm_work`` (``confirm_booking``'s),
``cancel_booking`` in ``api/channel_booking.py`` — so the release gate, the real-name
rules, the blacklist and velocity gate, the rate limits, the ledger and the waitlist
apply exactly as they do to ``/v1/``. What is left
here is translation: Parameters in, Bundles of Appointments out.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Body, Request
from fastapi.responses import JSONResponse
from fhir.resources.R4B.appointment import Appointment
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.operationoutcome import OperationOutcome
from pydantic import ValidationError
from sqlalchemy.orm import Session

from fairslot.allocation import service as allocation
from fairslot.allocation.batch_schemas import BatchEntryView
from fairslot.allocation.states import AllocationMode
from fairslot.api import channel_booking
from fairslot.api.deps import ChannelDep, ContextDep, DbDep, PlatformDep
from fairslot.availability import upcoming
from fairslot.bookings.schemas import ConfirmRequest, HoldRequest
from fairslot.bootstrap import Platform
from fairslot.context import RequestContext
from fairslot.fhir.appointments import (
    AccountDep,
    appointment,
    cancel,
    proposed,
    proposed_target,
)
from fairslot.fhir.catalog import token
from fairslot.fhir.errors import FhirInvalid
from fairslot.fhir.http import FhirResponse, int_reference, reference_id, respond, validated
from fairslot.fhir.outcome import information
from fairslot.fhir.paging import Page, PageDep, collection, searchset
from fairslot.fhir.parameters import Inputs
from fairslot.fhir.schedule import released
from fairslot.hospitals import repository as hospitals_repo
from fairslot.hospitals.models import Department

router = APIRouter()
FhirBody = Annotated[dict[str, Any], Body()]


# -- $find (ITI-115) ------------------------------------------------------------------


@router.get("/Appointment/$find", response_class=FhirResponse)
def find_get(
    request: Request, db: DbDep, platform: PlatformDep, ctx: ContextDep, page: PageDep
) -> FhirResponse:
    return respond(find(request, db, platform, ctx, Inputs.of_query(request), page))


@router.post("/Appointment/$find", response_class=FhirResponse)
def find_post(
    body: FhirBody,
    request: Request,
    db: DbDep,
    platform: PlatformDep,
    ctx: ContextDep,
    page: PageDep,
) -> FhirResponse:
    inputs = Inputs.of_body(body)
    return respond(find(request, db, platform, ctx, inputs, page, as_query=True))


def find(
    request: Request,
    db: Session,
    platform: Platform,
    ctx: RequestContext,
    inputs: Inputs,
    page: Page,
    *,
    as_query: bool = False,
) -> Bundle:
    """Free released slots from ``start`` to ``end`` of the departments the inputs name
    (``practitioner``, or ``organization`` with optional ``specialty``) as proposed
    Appointments; held slots are not free, so never proposed. A draw-mode department's
    coming sessions answer with how to enter their draw (an ``outcome`` entry)."""
    zone = ZoneInfo(platform.settings.default_timezone)
    start = _instant(inputs.one("start", required=True), zone=zone, end=False)
    end = _instant(inputs.one("end", required=True), zone=zone, end=True)
    if end <= start:
        raise FhirInvalid("end must be after start.", code="invalid_date_range")
    patient_ref = inputs.text("patient-reference")
    patient_id = int_reference(patient_ref, kind="Patient") if patient_ref else None
    departments, doctors = _departments(db, inputs)
    matches: list[Appointment] = []
    notes: list[OperationOutcome] = []
    for department in departments:
        days = (start.astimezone(zone).date(), end.astimezone(zone).date())
        views = released(request, db, platform, ctx, department_id=department.id, days=days)
        for view in views:
            if doctors and view.doctor_id not in doctors:
                continue
            matches += [
                proposed(
                    slot_id=s.slot_id,
                    starts=s.starts_at,
                    ends=s.ends_at,
                    doctor_id=view.doctor_id,
                    department_id=view.department_id,
                    specialty=department.specialty,
                    patient_id=patient_id,
                )
                for s in view.slots
                if start <= s.starts_at < end
            ]
        if department.allocation_mode == AllocationMode.DRAW:
            notes += _draw_notes(db, platform, department, days=days)
    matches.sort(key=lambda a: (a.start, a.id))
    params = _as_query(inputs) if as_query else None
    return searchset(request, matches=matches, page=page, notes=notes, params=params)


def _instant(raw: Any, *, zone: ZoneInfo, end: bool) -> datetime:
    """A FHIR dateTime (a day, or an instant with its offset) as an aware datetime; a
    bare day is the hospital zone's start (or, for ``end``, the end) of that day."""
    if isinstance(raw, datetime):
        return raw if raw.tzinfo else raw.replace(tzinfo=zone)
    text = str(raw)
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            return datetime.combine(day, time.max if end else time.min, tzinfo=zone)
        value = datetime.fromisoformat(text)
    except ValueError as exc:
        raise FhirInvalid(f"{text!r} is not a FHIR dateTime.", code="fhir_date_invalid") from exc
    return value if value.tzinfo else value.replace(tzinfo=zone)


def _departments(db: Session, inputs: Inputs) -> tuple[list[Department], set[int]]:
    """The departments to search and the doctors to keep (empty: all of them)."""
    specialties = {token(str(s)) for s in inputs.all("specialty")}
    doctor_ids = {int_reference(str(r), kind="Practitioner") for r in inputs.all("practitioner")}
    found: dict[int, Department] = {}
    if doctor_ids:
        doctors = hospitals_repo.doctors_by_ids(db, doctor_ids)
        found.update(
            hospitals_repo.departments_by_ids(db, {d.department_id for d in doctors.values()})
        )
    for ref in inputs.all("organization"):
        hospital_id = int_reference(str(ref), kind="Organization")
        for department in hospitals_repo.list_departments(
            db, hospital_id=hospital_id, specialty=None
        ):
            found[department.id] = department
    if not doctor_ids and not inputs.all("organization"):
        raise FhirInvalid(
            "Name where to look: practitioner (Practitioner/<id>) or organization "
            "(Organization/<id>, with specialty to narrow it).",
            code="fhir_find_needs_actor",
        )
    kept = [d for _, d in sorted(found.items()) if not specialties or d.specialty in specialties]
    return kept, doctor_ids


def _draw_notes(
    db: Session, platform: Platform, department: Department, *, days: tuple[date, date]
) -> list[OperationOutcome]:
    """How to enter the draw of each coming day of a draw-mode department."""
    now = platform.clock.now()
    coming = upcoming.upcoming(
        db, department_id=department.id, date_from=days[0], date_to=days[1], now=now
    )
    notes = []
    for day in sorted({s.session_date for s in coming}):
        window = allocation.draw_window(db, department_id=department.id, session_date=day)
        if window is None:
            continue
        zone = ZoneInfo(platform.settings.default_timezone)
        opens, due = (t.astimezone(zone).strftime("%Y-%m-%d %H:%M %z") for t in window)
        sessions = ", ".join(str(s.session_id) for s in coming if s.session_date == day)
        notes.append(
            information(
                "draw_mode",
                f"{department.name} allocates {day} by a draw, not first come: register "
                f"the patient's intent (POST /v1/intents with session_id one of {sessions}, "
                f"or department_id {department.id} and session_date {day}) between {opens} "
                f"and {due}; the draw runs at {due} and books its winners.",
                detail_zh=f"{department.name} {day} 的号源以抽签方式分配，不按先到先得："
                f"请在 {opens} 至 {due} 之间登记就诊意向（POST /v1/intents，"
                f"session_id 为 {sessions} 之一，或 department_id {department.id} 与 "
                f"session_date {day}）；{due} 开奖并为中签者预约。",
            )
        )
    return notes


def _as_query(inputs: Inputs) -> list[tuple[str, str]]:
    """A POSTed $find's inputs as the query of its GET form (for the paging links)."""
    return [
        (name, v.isoformat() if isinstance(v, datetime) else str(v))
        for name, values in inputs.values.items()
        for v in values
    ]


# -- $hold (ITI-116) ------------------------------------------------------------------


@router.post("/Appointment/$hold", response_class=FhirResponse)
def hold(
    body: FhirBody,
    request: Request,
    db: DbDep,
    platform: PlatformDep,
    ctx: ContextDep,
    account_id: AccountDep,
) -> FhirResponse:
    """Hold the slot of a proposed Appointment (``slot-<GUID>`` from ``$find``, or the
    first free slot of ``session-<id>``, an alternative offered with a refusal) for the
    patient it was proposed to (or the ``patient-reference`` given here):
    ``POST /v1/holds`` with ``slot_id`` or ``session_id``."""
    inputs = Inputs.of_body(body)
    target = reference_id(inputs.text("appointment-reference", required=True), kind="Appointment")
    chosen = proposed_target(target)
    patient_id = chosen.patient_id
    patient_ref = inputs.text("patient-reference")
    if patient_ref:
        patient_id = int_reference(patient_ref, kind="Patient")
    if patient_id is None:
        raise FhirInvalid(
            "Name the patient: $find with patient-reference, or patient-reference here.",
            code="fhir_patient_missing",
        )
    # a refusal for lack of capacity proposes alternatives for this patient (outcome.py)
    request.state.fhir_patient_id = patient_id
    request_body = _model(
        HoldRequest,
        account_id=account_id,
        patient_id=patient_id,
        slot_id=chosen.slot_id,
        session_id=chosen.session_id,
    )
    view = channel_booking.hold_work(request_body, request, db, platform, ctx)
    if isinstance(view, JSONResponse):
        return _batch_entry(request, view)
    held = appointment(db, view)
    expires = view.hold_expires_at.strftime("%Y-%m-%d %H:%M:%S %z")
    note = information(
        "held",
        f"Held until {expires}: $book it with the payment before then, or it lapses.",
        detail_zh=f"已锁号，保留至 {expires}：请在此之前完成支付并预约（$book），否则自动释放。",
    )
    return respond(collection(request, [held, note]))


def _batch_entry(request: Request, answer: JSONResponse) -> FhirResponse:
    """A hold that arrived in a release batch's window entered the batch instead
    (``POST /v1/holds`` answers 202): nothing is held yet, so no Appointment — the same
    202, with a note of when and where the result comes."""
    entry = BatchEntryView.model_validate_json(bytes(answer.body))
    result_at = entry.result_at.strftime("%Y-%m-%d %H:%M:%S %z")
    where = f"GET /v1/batch-entries/{entry.entry_id}"
    note = information(
        "release_batch_entry",
        f"{entry.detail} Result at {result_at}: {where} (draw {entry.batch_id}).",
        detail_zh=f"{entry.detail_zh} 结果将于 {result_at} 公布：{where}（抽签编号 "
        f"{entry.batch_id}）。",
    )
    return respond(collection(request, [note]), status_code=answer.status_code)


# -- $book (ITI-117) ------------------------------------------------------------------


@router.post("/Appointment/$book", response_class=FhirResponse)
def book(
    body: FhirBody,
    request: Request,
    db: DbDep,
    platform: PlatformDep,
    ctx: ContextDep,
    channel: ChannelDep,
    account_id: AccountDep,
) -> FhirResponse:
    """Book a held Appointment with its payment (``payment-account`` and
    ``payment-reference`` string parameters, as ``POST /v1/bookings/{id}/confirm``); or,
    given an ``appointment-resource`` whose status is ``cancelled``, cancel it."""
    inputs = Inputs.of_body(body)
    resource = inputs.one("appointment-resource")
    reference = inputs.text("appointment-reference")
    if (resource is None) == (reference is None):
        raise FhirInvalid(
            "Give exactly one of appointment-reference or appointment-resource.",
            code="fhir_parameter_invalid",
        )
    if resource is not None:
        sent = validated(Appointment, resource.model_dump(mode="json", exclude_none=True))
        booking_id = sent.id or ""
        if sent.status == "cancelled":
            cancelled = cancel(
                request, db, platform, ctx, channel, booking_id, account_id=account_id
            )
            return respond(collection(request, [cancelled]))
        if sent.status != "pending":
            raise FhirInvalid(
                "An appointment-resource to book must have status pending (ITI-117), or "
                "cancelled to cancel it.",
                code="fhir_parameter_invalid",
            )
    else:
        booking_id = reference_id(reference, kind="Appointment")
    confirm = _model(
        ConfirmRequest,
        account_id=account_id,
        payment_account=inputs.text("payment-account", required=True),
        payment_reference=inputs.text("payment-reference", required=True),
    )
    view = channel_booking.confirm_work(booking_id[:36], confirm, request, db, platform, ctx)
    return respond(collection(request, [appointment(db, view)]))


def _model(model: Any, **values: Any) -> Any:
    """The JSON API's request model, refused as its endpoint would refuse it."""
    try:
        return model(**values)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        raise FhirInvalid(f"{where}: {first.get('msg')}", code="invalid_request") from exc
