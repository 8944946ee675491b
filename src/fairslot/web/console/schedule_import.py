"""Console: upload a hospital's schedule push (JSON or CSV), preview what it would change,
then apply it.

Step 1 (``…/preview``) reads the uploaded file with the same readers as the hospital API
(``schedules/formats.py``) and asks ``schedules/preview.py`` what the import would do —
nothing is written. The preview page carries the document to step 2 itself: its bytes in
a hidden field (base64, so they come back byte for byte) with an HMAC over them, the
hospital, the format, the session's CSRF token and the time of the preview. Any worker can
check it; a document changed in between, taken to another session or hospital, or older
than ``PREVIEW_MINUTES``, is refused. Step 2 (``…/import``) runs the real import through
``schedules/staff_actions.py::import_schedule`` (the staff API's ``POST …/schedule``),
audited as ``schedule.import``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Path, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse

from fairslot.api.deps import DbDep, PlatformDep, done
from fairslot.bootstrap import Platform
from fairslot.errors import DomainError, InvalidInput
from fairslot.hospitals import service as hospitals
from fairslot.hospitals.models import Hospital
from fairslot.hospitals.schemas import CODE_PATTERN
from fairslot.schedules import formats, preview, views
from fairslot.schedules.errors import ScheduleInvalid, ScheduleTooLarge, WrongHospital
from fairslot.schedules.formats import ScheduleDocument
from fairslot.schedules.schemas import ImportPreview, Outcome
from fairslot.schedules.staff_actions import import_schedule
from fairslot.web.console.deps import ConsoleUser, ScheduleManager
from fairslot.web.console.pages import after, page

# Included by ``schedules.router`` (prefix /console).
router = APIRouter(include_in_schema=False)

MENU = "schedules"
# Larger pushes go through the API (16 MiB); a console upload travels twice (the preview
# page carries it back), so it is kept smaller.
MAX_UPLOAD_BYTES = 4 * 1024 * 1024
# Base64 of the largest upload, URL-encoded, with room to spare.
_FORM_LIMITS: Any = {"max_part_size": 2 * MAX_UPLOAD_BYTES}
PREVIEW_MINUTES = 30
# The preview lists every rejected session and the first of the changed ones.
MAX_LISTED = 300
CHARSETS = ("utf-8", "gb18030")
IMPORT_COUNTS = ("created", "updated", "unchanged", "withdrawn", "rejected")
Code = Annotated[str, Path(min_length=1, max_length=64, pattern=CODE_PATTERN)]


class PreviewExpired(DomainError):
    code = "preview_expired"
    status = 409


def _signature(
    platform: Platform,
    user: ConsoleUser,
    *,
    hospital: str,
    kind: str,
    charset: str,
    filename: str,
    issued: int,
    raw: bytes,
) -> str:
    message = "\n".join(
        (
            "schedule-preview",
            user.csrf,
            hospital,
            kind,
            charset,
            filename,
            str(issued),
            hashlib.sha256(raw).hexdigest(),
        )
    )
    key = platform.settings.effective_hash_key().encode()
    return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()


def _read(
    raw: bytes, *, hospital: Hospital, kind: str, charset: str, platform: Platform
) -> ScheduleDocument:
    today = views.local_today(hospital, platform.clock.now())
    return formats.parse_document(raw, kind=kind, today=today, charset=charset)


def _listed(found: ImportPreview) -> tuple[list[Any], int]:
    """The sessions worth a line: rejected first, then those that change."""
    rejected = [s for s in found.sessions if s.outcome == Outcome.REJECTED]
    changed = [s for s in found.sessions if s.outcome not in (Outcome.REJECTED, Outcome.UNCHANGED)]
    shown = (rejected + changed)[:MAX_LISTED]
    return shown, len(rejected) + len(changed) - len(shown)


@router.post(
    "/schedules/{code}/preview",
    response_class=HTMLResponse,
    max_body_size=MAX_UPLOAD_BYTES + 64 * 1024,
)
def preview_upload(
    request: Request,
    code: Code,
    user: ScheduleManager,
    db: DbDep,
    platform: PlatformDep,
    file: Annotated[UploadFile, File()],
    charset: Annotated[str, Form(max_length=16)] = "utf-8",
) -> HTMLResponse:
    """Step 1: what the uploaded push would change. Nothing is written."""
    raw = file.file.read(MAX_UPLOAD_BYTES + 1)
    if len(raw) > MAX_UPLOAD_BYTES:
        raise ScheduleTooLarge(
            f"The file is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MiB; split it, or "
            "send it through the API.",
            limit_mib=MAX_UPLOAD_BYTES // (1024 * 1024),
        )
    filename = (file.filename or "schedule")[-120:]
    return _preview_page(
        request,
        user,
        db,
        platform,
        code=code,
        raw=raw,
        filename=filename,
        kind=formats.kind_of(filename=filename, content_type=file.content_type or "", raw=raw),
        charset=charset if charset in CHARSETS else "utf-8",
    )


def _preview_page(
    request: Request,
    user: ConsoleUser,
    db: DbDep,
    platform: Platform,
    *,
    code: str,
    raw: bytes,
    filename: str,
    kind: str,
    charset: str,
) -> HTMLResponse:
    hospital = hospitals.get_hospital(db, code=code)
    context: dict[str, Any] = {
        "hospital": hospital,
        "filename": filename,
        "kind": kind,
        "charset": charset,
        "size": len(raw),
        "problems": None,
        "found": None,
        "preview_minutes": PREVIEW_MINUTES,
    }
    doc: ScheduleDocument | None = None
    try:
        doc = _read(raw, hospital=hospital, kind=kind, charset=charset, platform=platform)
        found = preview.preview_import(db, doc=doc, as_hospital=hospital)
    except ScheduleInvalid as exc:
        context["problems"] = [_problem(p) for p in exc.problems[:MAX_LISTED]]
        context["problem_count"] = len(exc.problems)
    except WrongHospital:
        context["problems"] = []
        context["other_hospital"] = doc.hospital if doc is not None else ""
    else:
        issued = int(platform.clock.now().timestamp())
        listed, unlisted = _listed(found)
        context |= {
            "found": found,
            "listed": listed,
            "unlisted": unlisted,
            "document": base64.b64encode(raw).decode("ascii"),
            "issued": issued,
            "signature": _signature(
                platform,
                user,
                hospital=hospital.code,
                kind=kind,
                charset=charset,
                filename=filename,
                issued=issued,
                raw=raw,
            ),
        }
    status = 200 if context["found"] is not None else 422
    response = page(
        request,
        "console/schedules_preview.html",
        user,
        done(request, db, context),
        active=MENU,
        status=status,
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def _problem(problem: dict[str, Any]) -> dict[str, str]:
    """A problem as a person reads it: the row ("line 7", "sessions[3]"), the field, the
    session and the message the reader gave."""
    location = str(problem.get("location", ""))
    if location.startswith("line ") and ": " in location:
        row, _, field = location.partition(": ")
    elif location.startswith("sessions[") and "]" in location:
        row, _, field = location.partition("]")
        row, field = row + "]", field.lstrip(".")
    else:
        row, field = location, ""
    return {
        "row": row,
        "field": field,
        "session_id": str(problem.get("session_id") or ""),
        "message": str(problem.get("message", "")),
    }


@router.post(
    "/schedules/{code}/import",
    form_limits=_FORM_LIMITS,
    max_body_size=2 * MAX_UPLOAD_BYTES + 64 * 1024,
)
def apply_upload(
    request: Request,
    code: Code,
    user: ScheduleManager,
    db: DbDep,
    platform: PlatformDep,
    document: Annotated[str, Form()],
    signature: Annotated[str, Form(max_length=64)],
    issued: Annotated[int, Form(ge=0)],
    kind: Annotated[str, Form(max_length=8)],
    charset: Annotated[str, Form(max_length=16)],
    filename: Annotated[str, Form(max_length=120)] = "schedule",
) -> RedirectResponse:
    """Step 2: import the previewed document, as ``POST /staff/v1/hospitals/{code}/
    schedule`` does; audited with the file's name and digest."""
    hospital = hospitals.get_hospital(db, code=code)
    try:
        raw = base64.b64decode(document, validate=True)
    except (binascii.Error, ValueError):
        raw = None
    expected = (
        ""
        if raw is None
        else _signature(
            platform,
            user,
            hospital=hospital.code,
            kind=kind,
            charset=charset,
            filename=filename,
            issued=issued,
            raw=raw,
        )
    )
    if raw is None or not hmac.compare_digest(expected, signature):
        raise InvalidInput(
            "The previewed document did not come back as it was shown; upload it again.",
            code="preview_mismatch",
        )
    age = platform.clock.now().timestamp() - issued
    if not 0 <= age <= PREVIEW_MINUTES * 60:
        raise PreviewExpired(
            f"The preview is older than {PREVIEW_MINUTES} minutes and may no longer be "
            "what the import would do; upload the file again.",
            minutes=PREVIEW_MINUTES,
        )
    doc = _read(raw, hospital=hospital, kind=kind, charset=charset, platform=platform)
    settings = platform.settings
    report = import_schedule(
        db,
        hospital=hospital,
        doc=doc,
        actor=user.actor,
        now=platform.clock.now(),
        rng=platform.rng,
        late_release_minutes=(settings.late_release_min_minutes, settings.late_release_max_minutes),
        source={
            "file": filename,
            "format": kind,
            "sha256": hashlib.sha256(raw).hexdigest(),
            "via": "console",
        },
    )
    done(request, db, report)
    counts = {key: getattr(report, key) for key in IMPORT_COUNTS}
    return after(f"/console/schedules/{hospital.code}", done="schedule_imported", **counts)
