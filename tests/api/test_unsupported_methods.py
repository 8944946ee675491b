"""A method a path does not support (TRACE above all: it would echo credentials back) is
refused with 405, the methods it does support in ``Allow``, and the usual error body."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("TRACE", "/v1/accounts", {"POST"}),
        ("TRACE", "/healthz", {"GET"}),
        ("TRACE", "/staff/v1/login", {"POST"}),
        ("PUT", "/v1/holds", {"POST"}),
        ("PROPFIND", "/hospital/v1/schedule", {"POST"}),
    ],
)
def test_an_unsupported_method_is_a_405_naming_the_allowed_ones(
    client: TestClient, method: str, path: str, allowed: set[str]
) -> None:
    response = client.request(method, path, headers={"X-Channel-Key": "ck_secret"})

    assert response.status_code == 405
    assert {m.strip() for m in response.headers["allow"].split(",")} == allowed
    body = response.json()
    assert body["error"] == "method_not_allowed"
    assert body["detail"] and body["detail_zh"]
    assert "ck_secret" not in response.text
