"""The whole site served for real (uvicorn on a free port in a thread of the test
process, as ``browser.py``'s ``demo_site``) over the test's own platform — its manual
clock and its database, SQLite or PostgreSQL — for a real FHIR client to talk to."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import uvicorn
from fhir.resources.R4B import get_fhir_model_class
from fhirpy import SyncFHIRClient
from lxml import etree

from factories.world import World
from fairslot.web.site import create_site


@dataclass
class FhirServer:
    base_url: str
    world: World

    @property
    def fhir_url(self) -> str:
        return f"{self.base_url}/fhir"

    def headers(
        self, *, account_id: int | None = None, device: str = "fhir-device"
    ) -> dict[str, str]:
        headers = {"X-Channel-Key": self.world.channel_key, "X-Device-Id": device}
        if account_id is not None:
            headers["X-Account-Id"] = str(account_id)
        return headers

    def client(
        self, *, account_id: int | None = None, device: str = "fhir-device"
    ) -> SyncFHIRClient:
        return SyncFHIRClient(
            self.fhir_url, extra_headers=self.headers(account_id=account_id, device=device)
        )

    def http(self) -> httpx.Client:
        return httpx.Client(base_url=self.fhir_url, timeout=30)


def valid(body: Any) -> Any:
    """``body`` parsed by the R4 (R4B) model of its ``resourceType``: every field known,
    every cardinality and type right (raises otherwise)."""
    data = dict(body)
    return get_fhir_model_class(data["resourceType"]).model_validate(data)


def valid_xml(response: httpx.Response) -> Any:
    """An ``application/fhir+xml`` answer parsed by the R4 (R4B) model its root element
    names, with the library's own XML reader (raises on anything else)."""
    assert response.headers["content-type"].startswith("application/fhir+xml"), response.text
    root = etree.fromstring(response.content)
    assert etree.QName(root).namespace == "http://hl7.org/fhir"
    model = get_fhir_model_class(etree.QName(root).localname)
    return model.model_validate_xml(response.content)


def as_xml(resource: dict[str, Any]) -> bytes:
    """A FHIR JSON resource written as FHIR XML by the model library."""
    return xml_bytes(valid(resource))


def xml_bytes(model: Any) -> bytes:
    written = model.model_dump_xml()  # bytes in fhir.resources 8.3.0 (annotated str)
    return written if isinstance(written, bytes) else str(written).encode("utf-8")


XML_HEADERS = {"Content-Type": "application/fhir+xml", "Accept": "application/fhir+xml"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def fhir_server(world: World) -> Iterator[FhirServer]:
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_site(world.platform),
            host="127.0.0.1",
            port=port,
            log_level="warning",
            lifespan="off",
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:  # a condition, not a fixed sleep
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("the FHIR site did not start")
        time.sleep(0.02)
    try:
        yield FhirServer(base_url=f"http://127.0.0.1:{port}", world=world)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
