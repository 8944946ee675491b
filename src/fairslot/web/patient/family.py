"""*Family* (就诊人): the real-name patients the account books for — list (masked), bind,
unbind. The same use cases, gate and request records as the channel API's
``/v1/accounts/{id}/patients`` (``api/channel_accounts.py``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, Response

from fairslot.api.deps import DbDep, PlatformDep, done, gate
from fairslot.audit.service import PendingRecord
from fairslot.errors import InvalidInput
from fairslot.patients import service as patients
from fairslot.web.patient.deps import Acting, Patient
from fairslot.web.patient.pages import after, page

router = APIRouter(tags=["patient"], include_in_schema=False)

RELATIONS = ("self", "spouse", "parent", "child", "sibling", "relative", "other")


@router.get("/family", response_class=HTMLResponse)
def family_page(request: Request, user: Patient, db: DbDep, platform: PlatformDep) -> Response:
    now = platform.clock.now()
    request.state.audit = PendingRecord(
        action="list_patients", at=now, ctx=user.ctx, account_id=user.account_id
    )
    found = patients.list_patients(
        db, account_id=user.account_id, now=now, protector=platform.protector
    )
    done(request, db, None)
    settings = platform.settings
    return page(
        request,
        "patient/family.html",
        user,
        {
            "patients": found,
            "relations": RELATIONS,
            "limit": settings.max_patients_per_account,
            "full": len(found) >= settings.max_patients_per_account,
        },
        active="family",
    )


@router.post("/family")
def bind(
    request: Request,
    user: Acting,
    db: DbDep,
    platform: PlatformDep,
    name: Annotated[str, Form(max_length=50)] = "",
    id_number: Annotated[str, Form(max_length=32)] = "",
    phone: Annotated[str, Form(max_length=32)] = "",
    relation: Annotated[str, Form(max_length=32)] = "",
) -> Response:
    if relation not in RELATIONS:
        # Chosen by the patient, never assumed: a parent bound as "self" is a wrong record.
        raise InvalidInput(
            "Choose how the patient is related to you.",
            code="relation_required",
            detail_zh="请选择就诊人与您的关系。",
        )
    now = platform.clock.now()
    request.state.audit = pending = PendingRecord(
        action="bind_patient",
        at=now,
        ctx=user.ctx,
        account_id=user.account_id,
        patient_key=patients.patient_key_for(id_number, protector=platform.protector),
    )
    gate(db, platform, user.ctx, record=pending, patient_key=pending.patient_key, phone=phone)
    account = patients.get_account(db, account_id=user.account_id, channel_id=user.ctx.channel_id)
    patients.bind_patient(
        db,
        account=account,
        name=name,
        id_number=id_number,
        phone=phone,
        insurance_card=None,
        relation=relation,
        now=now,
        protector=platform.protector,
        max_bound=platform.settings.max_patients_per_account,
    )
    done(request, db, None)
    return after(request, "/family", done="bound")


@router.post("/family/{patient_id}/unbind")
def unbind(
    request: Request,
    user: Acting,
    db: DbDep,
    platform: PlatformDep,
    patient_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
) -> Response:
    request.state.audit = PendingRecord(
        action="unbind_patient", at=platform.clock.now(), ctx=user.ctx, account_id=user.account_id
    )
    patients.get_account(db, account_id=user.account_id, channel_id=user.ctx.channel_id)
    patients.unbind_patient(db, account_id=user.account_id, patient_id=patient_id)
    done(request, db, None)
    return after(request, "/family", done="unbound")
