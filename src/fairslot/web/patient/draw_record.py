"""A draw's public record (摇号公示), open to anyone without signing in: before the draw its
commitment (the SHA-256 of the secret seed) and the count of entries; after it the seed,
the algorithm, the entries by their opaque ids, the slots, the assignment, and whether
re-running the draw from these alone gives the same result — the same body as the channel
API's ``GET /v1/draws/{id}`` (``api/allocation_routes.py::draw_view``), downloadable as
JSON for ``fairslot draw verify --from-json`` or any re-implementation
(``docs/draw-verification.md``). A signed-in patient sees which entries are theirs."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from fairslot.api.allocation_routes import draw_view
from fairslot.api.deps import DbDep, PlatformDep, done
from fairslot.entries import service as entries
from fairslot.patients import service as patients
from fairslot.web.patient.deps import MaybePatient
from fairslot.web.patient.pages import page

router = APIRouter(tags=["patient"], include_in_schema=False)

DrawId = Annotated[int, Path(ge=1, le=2**31 - 1)]


@router.get("/draws/{draw_id}", response_class=HTMLResponse)
def draw_record(
    request: Request, user: MaybePatient, db: DbDep, platform: PlatformDep, draw_id: DrawId
) -> Response:
    department, hospital, zone = entries.draw_place(db, draw_id=draw_id)
    view = draw_view(db, draw_id)
    mine: dict[str, str] = {}  # the signed-in patient's intent ids -> the patient's name
    if user is not None:
        bound = patients.list_patients(
            db, account_id=user.account_id, now=platform.clock.now(), protector=platform.protector
        )
        names = {p.patient_id: p.name_masked for p in bound}
        mine = {
            e.intent_id: names.get(e.patient_id, "")
            for e in entries.draw_entries(db, patient_ids=list(names))
            if e.draw_id == draw_id
        }
    done(request, db, None)
    assignment = view.assignment or {}
    return page(
        request,
        "patient/draw_record.html",
        user,
        {
            "d": view,
            "department": department,
            "hospital": hospital,
            "draw_zone": zone,
            "mine": mine,
            "winners": sum(1 for slot in assignment.values() if slot),
            "numbers": {s.slot_id: s.number for s in view.slots or []},
        },
    )


@router.get("/draws/{draw_id}/record.json")
def draw_record_json(request: Request, db: DbDep, draw_id: DrawId) -> Response:
    """The published record as JSON: what ``fairslot draw verify --from-json`` reads."""
    view = draw_view(db, draw_id)
    done(request, db, None)
    return JSONResponse(
        view.model_dump(mode="json"),
        headers={"Content-Disposition": f'attachment; filename="draw-{draw_id}.json"'},
    )
