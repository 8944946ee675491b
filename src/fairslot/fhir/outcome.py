"""Every refusal as an ``OperationOutcome``: the JSON API's stable code (in
``issue.details.coding``, system :data:`ERROR_SYSTEM`), its English message
(``details.text``) with the Chinese one as the standard translation extension (and as
``diagnostics``, for clients that ignore extensions), under the JSON API's HTTP status.

The messages come from the same places as the JSON API's: the refusal's own detail and
``error_messages.py``'s catalogue (``api/errors.py`` renders the same pair as JSON).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.resource import Resource
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from fairslot.error_messages import chinese
from fairslot.errors import DomainError
from fairslot.fhir.alternatives import alternatives
from fairslot.fhir.http import FhirResponse
from fairslot.fhir.paging import collection

log = logging.getLogger("fairslot.fhir")

ERROR_SYSTEM = "urn:fairslot:error"
NOTE_SYSTEM = "urn:fairslot:note"  # what is not a refusal: a hold's expiry, a draw's window
TRANSLATION = "http://hl7.org/fhir/StructureDefinition/translation"

# The FHIR issue type of each HTTP status the JSON API answers with.
_ISSUE_TYPE = {
    401: "login",
    403: "forbidden",
    404: "not-found",
    405: "not-supported",
    406: "not-supported",
    409: "conflict",
    410: "deleted",
    413: "too-costly",
    415: "not-supported",
    422: "invalid",
    429: "throttled",
    503: "transient",
}
# An appointment that can no longer be held or booked: ITI-116 asks for a fatal
# ``not-found`` issue (the HTTP status stays the JSON API's 409).
UNAVAILABLE = frozenset({"slot_taken", "session_full", "slot_unavailable", "slot_not_found"})
BOOK_PATH = "/Appointment/$book"
_HTTP_ZH = {
    404: "请求的地址不存在。",
    405: "该地址不支持此请求方法，可用的方法见 Allow 响应头。",
}


def outcome(
    code: str,
    detail: str,
    *,
    status: int,
    detail_zh: str | None = None,
    severity: str = "error",
    issue_type: str | None = None,
    system: str = ERROR_SYSTEM,
    more: tuple[list[dict[str, Any]], list[dict[str, Any]]] = ([], []),
) -> OperationOutcome:
    """The refusal (or note) as an OperationOutcome; ``more``: resources to contain and
    the issues that follow the first (a refusal's alternatives)."""
    zh = detail_zh or chinese(code)
    details: dict[str, Any] = {
        "coding": [{"system": system, "code": code}],
        "text": detail,
    }
    if zh:
        details["_text"] = {
            "extension": [
                {
                    "url": TRANSLATION,
                    "extension": [
                        {"url": "lang", "valueCode": "zh-CN"},
                        {"url": "content", "valueString": zh},
                    ],
                }
            ]
        }
    if code in UNAVAILABLE:
        severity, issue_type = "fatal", "not-found"
    issue: dict[str, Any] = {
        "severity": severity,
        "code": issue_type or _ISSUE_TYPE.get(status, "processing"),
        "details": details,
    }
    if zh:
        issue["diagnostics"] = zh
    contained, issues = more
    data: dict[str, Any] = {"resourceType": "OperationOutcome", "issue": [issue, *issues]}
    if contained:
        data["contained"] = contained
    return OperationOutcome.model_validate(data)


def information(code: str, detail: str, *, detail_zh: str) -> OperationOutcome:
    """A note that is not a refusal (a hold's expiry, how to enter a draw)."""
    return outcome(
        code,
        detail,
        status=200,
        detail_zh=detail_zh,
        severity="information",
        issue_type="informational",
        system=NOTE_SYSTEM,
    )


def refusal(exc: DomainError, request: Request | None = None) -> FhirResponse:
    """The refusal's answer; with the JSON API's ranked alternatives when it has them
    (``slot_taken``, ``session_full``), proposed to the patient ``$hold`` named."""
    zh = exc.extra.get("detail_zh")
    retry = exc.extra.get("retry_after")
    headers = {"Retry-After": str(int(retry))} if isinstance(retry, int | float) else None
    found = exc.extra.get("alternatives")
    more: tuple[list[dict[str, Any]], list[dict[str, Any]]] = ([], [])
    if isinstance(found, list) and found:
        patient_id = getattr(request.state, "fhir_patient_id", None) if request else None
        more = alternatives(found, patient_id=patient_id, translation=TRANSLATION)
    issue = outcome(exc.code, exc.detail, status=exc.status, detail_zh=zh or None, more=more)
    return answer(request, issue, status=exc.status, headers=headers)


def answer(
    request: Request | None,
    issue: OperationOutcome,
    *,
    status: int,
    headers: Mapping[str, str] | None = None,
) -> FhirResponse:
    """A refusal's body under the JSON API's status: the OperationOutcome itself, or for
    ``$book`` a Bundle holding only it (ITI-117: "An unsuccessful $book operation SHALL
    return only an OperationOutcome resource within the Bundle"). ``$hold`` answers the
    bare OperationOutcome, as ITI-116 says."""
    body: Resource = issue
    if request is not None and request.url.path.endswith(BOOK_PATH):
        body = collection(request, [issue])
    return FhirResponse(body, status_code=status, headers=headers)


def install(app: FastAPI) -> None:
    """The FHIR sub-application's handlers: the JSON API's (``api/errors.py``), with
    OperationOutcome bodies."""

    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> FhirResponse:
        return refusal(exc, request)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> FhirResponse:
        errors = exc.errors()
        first = errors[0] if errors else {}
        field = ".".join(str(p) for p in first.get("loc", ()))
        detail = f"{field}: {first.get('msg', 'invalid request')}"
        zh = f"请求格式有误：字段 {field} 缺少或取值不正确，请按接口文档检查后重新提交。"
        return answer(
            request, outcome("invalid_request", detail, status=422, detail_zh=zh), status=422
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> FhirResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        issue = outcome(
            code, str(exc.detail), status=exc.status_code, detail_zh=_HTTP_ZH.get(exc.status_code)
        )
        return answer(request, issue, status=exc.status_code, headers=exc.headers)

    @app.exception_handler(IntegrityError)
    async def _integrity(request: Request, exc: IntegrityError) -> FhirResponse:
        log.info("constraint refused a change: %s", exc.orig.__class__.__name__)
        detail = "The request conflicted with another change; nothing was changed."
        return answer(request, outcome("conflict", detail, status=409), status=409)

    @app.exception_handler(DataError)
    async def _data(request: Request, exc: DataError) -> FhirResponse:
        log.info("database refused a value: %s", exc.orig.__class__.__name__)
        detail = "A value in the request is out of range."
        return answer(request, outcome("invalid_value", detail, status=422), status=422)

    @app.exception_handler(OperationalError)
    async def _busy(request: Request, exc: OperationalError) -> FhirResponse:
        log.warning("database busy: %s", exc.orig)
        return _busy_response(request)

    @app.exception_handler(PoolTimeout)
    async def _no_connection(request: Request, exc: PoolTimeout) -> FhirResponse:
        log.warning("database busy: %s", exc)
        return _busy_response(request)


def _busy_response(request: Request) -> FhirResponse:
    detail = "The platform is busy; nothing was changed. Try again shortly."
    issue = outcome("busy", detail, status=503)
    return answer(request, issue, status=503, headers={"Retry-After": "1"})
