"""Console page: the audit log (auditors).

Every staff action — who, what, on what, when, why — found by actor, action (or a family
of actions such as every ``staff.`` one), target, local dates and words of the reason, a
page at a time, newest first, with each row's data laid out to read. The same query as
``GET /staff/v1/audit`` (``staff/audit_log.py``).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import cache
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from fairslot.api.deps import DbDep, done
from fairslot.staff import audit_log
from fairslot.web.console.deps import AuditReader
from fairslot.web.console.pages import page
from fairslot.web.i18n import DEFAULT_LANGUAGE, catalogue

router = APIRouter(prefix="/console", include_in_schema=False)

MENU = "audit"
PAGE_SIZE = 50
_MAX_ID = 2**31 - 1
_ACTION_KEY = "audit.action."
_KIND_KEY = "audit.kind."


@cache
def _known(prefix: str) -> tuple[str, ...]:
    """The actions (or target kinds) the catalogue names: the form offers them."""
    return tuple(
        sorted(
            key.removeprefix(prefix)
            for key in catalogue(DEFAULT_LANGUAGE)
            if key.startswith(prefix)
        )
    )


def _date(value: str) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _text(value: str) -> str | None:
    return value.strip() or None


@router.get("/audit", response_class=HTMLResponse)
def audit_page(
    request: Request,
    user: AuditReader,
    db: DbDep,
    actor: Annotated[str, Query(max_length=64)] = "",
    action: Annotated[str, Query(max_length=64)] = "",
    kind: Annotated[str, Query(max_length=32)] = "",
    target: Annotated[str, Query(max_length=64)] = "",
    first: Annotated[str, Query(alias="from", max_length=10)] = "",
    last: Annotated[str, Query(alias="to", max_length=10)] = "",
    q: Annotated[str, Query(max_length=200)] = "",
    before: Annotated[int | None, Query(ge=1, le=_MAX_ID)] = None,
    after: Annotated[int | None, Query(ge=0, le=_MAX_ID)] = None,
) -> HTMLResponse:
    """The log, newest first, as the filters narrow it; ``before``/``after`` page it."""
    start, end = _date(first), _date(last)
    where = audit_log.AuditFilter(
        since=None if start is None else datetime.combine(start, time(0), tzinfo=user.zone),
        until=(
            None
            if end is None
            else datetime.combine(end + timedelta(days=1), time(0), tzinfo=user.zone)
        ),
        actor=_text(actor),
        action=_text(action),
        target_kind=_text(kind),
        target_id=_text(target),
        text=_text(q),
    )
    found = audit_log.search(
        db, where=where, before_id=before, after_id=None if before else after, limit=PAGE_SIZE
    )
    filters = {
        "actor": actor.strip(),
        "action": action.strip(),
        "kind": kind.strip(),
        "target": target.strip(),
        "from": start.isoformat() if start else "",
        "to": end.isoformat() if end else "",
        "q": q.strip(),
    }
    kept = {key: value for key, value in filters.items() if value}
    context: dict[str, Any] = {
        "rows": found.rows,
        "filters": filters,
        "filtered": bool(kept),
        "older_url": None if found.older is None else _url({**kept, "before": found.older}),
        "newer_url": None if found.newer is None else _url({**kept, "after": found.newer}),
        "paged": before is not None or after is not None,
        "actions": _known(_ACTION_KEY),
        "families": sorted({name.split(".")[0] + "." for name in _known(_ACTION_KEY)}),
        "kinds": _known(_KIND_KEY),
    }
    return page(request, "console/audit.html", user, done(request, db, context), active=MENU)


def _url(params: dict[str, Any]) -> str:
    return "/console/audit?" + urlencode(params)
