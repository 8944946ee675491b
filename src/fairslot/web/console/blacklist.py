"""Console pages: the blacklist (IT admins).

Find entries (by scope, label and state on the list; by an identifier typed in through a
POST, so the identifier never lands in an address or a log), block an identifier (the
same service as ``POST /staff/v1/blacklist``), read an entry's history, and lift it after
the person came in person with an identity document (``blacklist/service.py::
lift_in_person``). Every change is audited by the service, in the request's transaction.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from fairslot.api.deps import DbDep, PlatformDep, done
from fairslot.blacklist import lookup, service
from fairslot.blacklist.models import Scope
from fairslot.blacklist.states import EntryState, IdDocument
from fairslot.sanctions import service as sanctions
from fairslot.web.console.deps import BlacklistKeeper, BlacklistReader, ConsoleUser
from fairslot.web.console.pages import after, page

router = APIRouter(prefix="/console", include_in_schema=False)

MENU = "blacklist"
_MAX_ID = 2**31 - 1
EntryId = Annotated[int, Path(ge=1, le=_MAX_ID)]
# The list's state filter: one state, or every entry ("all").
STATES = (*(s.value for s in EntryState), "all")
# How long a block lasts, as the add form offers it (days), or until lifted in person.
EXPIRIES = ("permanent", "7", "30", "90", "180", "365")


def _scope(value: str) -> Scope | None:
    return Scope(value) if value in set(Scope) else None


def _state(value: str) -> EntryState | None:
    return EntryState(value) if value in set(EntryState) else None


def _list_page(
    request: Request,
    user: ConsoleUser,
    result: lookup.SearchResult,
    *,
    filters: dict[str, Any],
    status: int = 200,
) -> HTMLResponse:
    return page(
        request,
        "console/blacklist.html",
        user,
        {
            "result": result,
            "filters": filters,
            "scopes": [s.value for s in Scope],
            "states": STATES,
        },
        active=MENU,
        status=status,
    )


@router.get("/blacklist", response_class=HTMLResponse)
def listing(
    request: Request,
    user: BlacklistReader,
    db: DbDep,
    platform: PlatformDep,
    scope: Annotated[str, Query(max_length=16)] = "",
    label: Annotated[str, Query(max_length=64)] = "",
    state: Annotated[str, Query(max_length=16)] = EntryState.ACTIVE.value,
    before: Annotated[int | None, Query(ge=1, le=_MAX_ID)] = None,
) -> HTMLResponse:
    """The entries, newest first: in force by default; by scope, label piece and state."""
    result = lookup.search(
        db,
        now=platform.clock.now(),
        protector=platform.protector,
        scope=_scope(scope),
        label=label,
        state=_state(state),
        before_id=before,
    )
    filters = {
        "scope": scope if _scope(scope) else "",
        "label": label,
        "state": state if state in STATES else EntryState.ACTIVE.value,
        "by_value": False,
    }
    return _list_page(request, user, done(request, db, result), filters=filters)


@router.post("/blacklist/search", response_class=HTMLResponse)
def search_by_identifier(
    request: Request,
    user: BlacklistKeeper,
    db: DbDep,
    platform: PlatformDep,
    value: Annotated[str, Form(max_length=128)] = "",
    scope: Annotated[str, Form(max_length=16)] = "",
) -> HTMLResponse:
    """Every entry, in any state, stored under the identifier typed in (hashed as the gate
    hashes it). Answered directly, not redirected: the identifier stays out of the URL."""
    result = lookup.search(
        db,
        now=platform.clock.now(),
        protector=platform.protector,
        scope=_scope(scope),
        value=value,
    )
    filters = {"scope": scope if _scope(scope) else "", "label": "", "state": "all"}
    response = _list_page(
        request, user, done(request, db, result), filters={**filters, "by_value": True}
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@router.get("/blacklist/new", response_class=HTMLResponse)
def new_entry(request: Request, user: BlacklistReader) -> HTMLResponse:
    return page(
        request,
        "console/blacklist_new.html",
        user,
        {"scopes": [s.value for s in Scope], "expiries": EXPIRIES},
        active=MENU,
    )


@router.post("/blacklist")
def add_entry(
    request: Request,
    user: BlacklistKeeper,
    db: DbDep,
    platform: PlatformDep,
    scope: Annotated[Scope, Form()],
    value: Annotated[str, Form(min_length=1, max_length=128)],
    reason: Annotated[str, Form(min_length=1, max_length=500)],
    expiry: Annotated[str, Form(max_length=16)] = "permanent",
    case_id: Annotated[int | None, Form(ge=1, le=_MAX_ID)] = None,
) -> RedirectResponse:
    """Block an identifier through every channel, as ``POST /staff/v1/blacklist`` does."""
    if expiry not in EXPIRIES:
        expiry = "permanent"
    entry = sanctions.block(
        db,
        scope=scope,
        value=value,
        reason=reason,
        actor=user.actor,
        now=platform.clock.now(),
        protector=platform.protector,
        days=None if expiry == "permanent" else int(expiry),
        case_ref=service.case_ref_for(db, case_id=case_id) if case_id else None,
    ).entry
    done(request, db, None)
    return after(f"/console/blacklist/{entry.id}", done="blacklist_added")


@router.get("/blacklist/{entry_id}", response_class=HTMLResponse)
def entry_history(
    entry_id: EntryId, request: Request, user: BlacklistReader, db: DbDep, platform: PlatformDep
) -> HTMLResponse:
    """The entry and its story; the in-person lift form while it is in force."""
    history = lookup.history(db, entry_id=entry_id, now=platform.clock.now())
    return page(
        request,
        "console/blacklist_entry.html",
        user,
        {"h": done(request, db, history), "documents": [d.value for d in IdDocument]},
        active=MENU,
    )


@router.post("/blacklist/{entry_id}/lift")
def lift_in_person(
    entry_id: EntryId,
    request: Request,
    user: BlacklistKeeper,
    db: DbDep,
    platform: PlatformDep,
    document: Annotated[IdDocument, Form()],
    checked: Annotated[str, Form(min_length=1, max_length=500)],
    checked_by: Annotated[str, Form(max_length=64)] = "",
) -> RedirectResponse:
    """The person came to the desk: record the document shown, who checked it and what
    was checked, and lift the block (as ``POST /staff/v1/blacklist/{id}/lift``)."""
    service.lift_in_person(
        db,
        entry_id=entry_id,
        actor=user.actor,
        checked=checked,
        now=platform.clock.now(),
        document=document,
        checked_by=checked_by or user.display_name,
    )
    done(request, db, None)
    return after(f"/console/blacklist/{entry_id}", done="blacklist_lifted")
