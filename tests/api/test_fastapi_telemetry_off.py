"""FastAPI's own OpenTelemetry instrumentation stays off on the whole site (the API, the
pages, FHIR): the platform measures itself (``observability/http.py``), and with it on,
FastAPI asked OpenTelemetry's global providers (which read the environment) on every
request — about 4 % of a hold's CPU in the release burst."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from opentelemetry import _logs, metrics, trace

from fairslot.bootstrap import Platform
from fairslot.web.site import create_site


@pytest.fixture
def asked(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    for module, name in (
        (trace, "get_tracer_provider"),
        (metrics, "get_meter_provider"),
        (_logs, "get_logger_provider"),
    ):
        original = getattr(module, name)

        def counting(*args: object, _name: str = name, _original: object = original) -> object:
            calls.append(_name)
            return _original(*args)  # type: ignore[operator]

        monkeypatch.setattr(module, name, counting)
    return calls


@pytest.fixture
def site(platform: Platform) -> Iterator[TestClient]:
    with TestClient(create_site(platform), raise_server_exceptions=False) as client:
        yield client


def test_no_request_asks_opentelemetry(site: TestClient, asked: list[str]) -> None:
    for path in ("/healthz", "/v1/hospitals", "/fhir/metadata", "/no-such-page"):
        site.get(path)
    assert asked == []


def test_the_check_sees_fastapis_instrumentation_when_it_is_on(asked: list[str]) -> None:
    # The same probe on an app left at FastAPI's default: the global providers are asked.
    from fastapi import FastAPI

    with TestClient(FastAPI()) as client:
        client.get("/missing")
    assert asked
