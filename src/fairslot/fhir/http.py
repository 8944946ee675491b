"""What every FHIR route shares: the ``application/fhir+json`` response, the acting
account, and reading references and resources out of a request."""

from __future__ import annotations

import json
from typing import Annotated, Any, TypeVar

from fastapi import Header
from fastapi.responses import JSONResponse
from fhir.resources.R4B.resource import Resource
from pydantic import ValidationError

from fairslot.fhir.errors import FhirInvalid

FHIR_JSON = "application/fhir+json"
MAX_ID = 2**31 - 1
R = TypeVar("R", bound=Resource)


class FhirResponse(JSONResponse):
    media_type = FHIR_JSON

    def render(self, content: Any) -> bytes:
        if isinstance(content, Resource):
            return content.model_dump_json(exclude_none=True).encode("utf-8")
        return json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def respond(resource: Resource, *, status_code: int = 200) -> FhirResponse:
    return FhirResponse(resource, status_code=status_code)


def account_header(
    x_account_id: Annotated[
        str | None,
        Header(description="the account the channel acts for (as account_id in /v1/)"),
    ] = None,
) -> int:
    """The account a channel acts for: in the JSON API a field of the body or query, in
    FHIR (whose operations have no such parameter) the ``X-Account-Id`` header."""
    if not x_account_id:
        raise FhirInvalid(
            "Send the account's id in the X-Account-Id header.", code="fhir_account_missing"
        )
    return parse_id(x_account_id, what="X-Account-Id")


def parse_id(raw: str, *, what: str) -> int:
    value = raw.strip()
    if not value.isdigit() or not 1 <= int(value) <= MAX_ID:
        raise FhirInvalid(f"{what} must be a positive whole number.", code="fhir_id_invalid")
    return int(value)


def reference_id(reference: str | None, *, kind: str) -> str:
    """The id in ``Kind/id`` (relative, or absolute ending in it); refuses another kind."""
    parts = (reference or "").rstrip("/").split("/")
    if len(parts) < 2 or parts[-2] != kind or not parts[-1]:
        raise FhirInvalid(
            f"Expected a reference to a {kind} ({kind}/<id>), got {reference!r}.",
            code="fhir_reference_invalid",
        )
    return parts[-1]


def int_reference(reference: str | None, *, kind: str) -> int:
    return parse_id(reference_id(reference, kind=kind), what=f"The {kind} id")


def validated(model: type[R], data: Any) -> R:
    """``data`` as the FHIR model, or a 422 ``fhir_invalid`` naming the first problem."""
    if not isinstance(data, dict) or data.get("resourceType") != model.get_resource_type():
        raise FhirInvalid(f"The body must be a {model.get_resource_type()} resource.")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        raise FhirInvalid(
            f"The {model.get_resource_type()} is not valid FHIR: {where}: {first.get('msg')}"
        ) from exc
