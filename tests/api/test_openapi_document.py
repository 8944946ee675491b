"""The OpenAPI document declares the refusals the server really answers (``api/openapi.py``):
the real 422 body, each API's credential and rate-limit refusals, the body limit, and codes
that exist."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

import fairslot
from fairslot.api import openapi, routers
from fairslot.timeofday import PATTERN


@pytest.fixture
def backend() -> str:
    return "sqlite"


@pytest.fixture
def document(client: TestClient) -> dict[str, Any]:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    return dict(response.json())


def _operations(document: dict[str, Any], prefix: str) -> list[tuple[str, dict[str, Any]]]:
    return [
        (f"{method.upper()} {path}", operation)
        for path, item in document["paths"].items()
        if path.startswith(prefix)
        for method, operation in item.items()
    ]


def _ref(response: dict[str, Any]) -> str:
    return str(response["content"]["application/json"]["schema"]["allOf"][0]["$ref"])


def test_every_422_is_declared_as_the_body_the_handler_renders(
    document: dict[str, Any], client: TestClient
) -> None:
    operations = _operations(document, "/")
    answer = client.post("/staff/v1/login", json={"username": ""})
    body_schema = document["components"]["schemas"]["ValidationErrorBody"]

    assert "HTTPValidationError" not in document["components"]["schemas"]
    for label, operation in operations:
        if label != "GET /healthz":
            assert _ref(operation["responses"]["422"]).endswith("/ValidationErrorBody"), label
    assert answer.status_code == 422
    assert set(body_schema["required"]) <= set(answer.json())
    assert body_schema["properties"]["detail"] == {"type": "string"}


@pytest.mark.parametrize(
    ("prefix", "statuses", "codes"),
    [
        ("/v1/", {"401", "413", "422", "429"}, {"channel_key_missing", "channel_key_invalid"}),
        ("/hospital/v1/", {"401", "413", "422"}, {"hospital_key_missing", "hospital_key_invalid"}),
        ("/staff/v1/cases", {"401", "403", "413", "422"}, {"staff_token_invalid"}),
    ],
)
def test_each_api_declares_its_credential_refusals_with_their_codes(
    document: dict[str, Any], prefix: str, statuses: set[str], codes: set[str]
) -> None:
    for label, operation in _operations(document, prefix):
        responses = operation["responses"]
        declared = responses["401"]["content"]["application/json"]["schema"]
        assert statuses <= set(responses), label
        assert codes <= set(declared["properties"]["error"]["examples"]), label
        assert _ref(responses["401"]).endswith("/ErrorBody"), label


def test_a_route_declares_the_codes_of_its_router(document: dict[str, Any]) -> None:
    take_next = document["paths"]["/staff/v1/cases/next"]["post"]["responses"]

    assert "queue_empty" in take_next["404"]["description"]
    assert "case_closed" in take_next["409"]["description"]


def _source() -> str:
    return "\n".join(
        path.read_text(encoding="utf-8")
        for path in Path(fairslot.__file__).parent.rglob("*.py")
        if path.name != "openapi.py"
    )


def test_every_router_has_its_refusals_and_every_declared_code_a_message() -> None:
    modules = {
        route.endpoint.__module__.rsplit(".", 1)[-1] for route in openapi.api_routes(routers.ALL)
    }
    declared = {
        code
        for route in openapi.api_routes(routers.ALL)
        for codes in openapi.refusals_of(route).values()
        for code in codes
    }

    assert modules <= set(openapi.REFUSALS)
    assert len(declared) > 100
    # A code the source no longer names (or a typo) is not declared.
    assert {code for code in declared if f'"{code}"' not in _source()} == set()


def test_local_times_are_declared_without_an_offset_and_match_what_is_sent(
    document: dict[str, Any],
) -> None:
    session_view = document["components"]["schemas"]["SessionView"]["properties"]

    assert '"format": "time"' not in str(document).replace("'", '"')
    assert session_view["start"]["pattern"] == PATTERN
    assert re.match(PATTERN, "08:00:00")
    assert re.match(PATTERN, "08:00")
    assert not re.match(PATTERN, "08:00:00+08:00")


def test_the_sites_document_has_no_dangling_reference(site: TestClient) -> None:
    # The site adds a documented route of its own (the payment callback): its refusals are
    # declared like the API's, and no $ref points at a schema the document lacks (ReDoc
    # refuses to render such a document).
    document = site.get("/openapi.json").json()
    text = json.dumps(document)
    referenced = set(re.findall(r'"#/components/schemas/([^"]+)"', text))
    assert referenced <= set(document["components"]["schemas"])
    callback = document["paths"]["/pay/callback/{provider_name}"]["post"]["responses"]
    assert {"400", "409", "422"} <= set(callback)
