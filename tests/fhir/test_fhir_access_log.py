"""The access log and the request metrics name FHIR routes by their whole template,
mount point included (``/fhir/Slot/{slot_id}``), as the client called them: a mounted
app's routes know only their own part."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest

from factories.fhir_server import FhirServer, fhir_server
from factories.world import World
from fairslot.api.access_log import ACCESS_LOGGER

__all__ = ["fhir_server"]


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.INFO)
        self.lines: list[dict[str, object]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(record.getMessage()))


@pytest.fixture
def access_lines() -> Iterator[Lines]:
    """The access log's lines, however another test left the logger's propagation."""
    logger = logging.getLogger(ACCESS_LOGGER)
    handler, level = Lines(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def test_the_access_log_names_fhir_routes_with_their_mount_point(
    fhir_server: FhirServer, world: World, access_lines: Lines
) -> None:
    session = world.session(capacity=1)
    slot_id = world.slots(session)[0].id
    h = fhir_server.headers(device="log-1")
    with fhir_server.http() as http:
        calls = [
            http.get("/metadata"),
            http.get(f"/Slot/{slot_id}", headers=h),
            http.post("/Slot/_search", data={"schedule": f"Schedule/{session.id}"}, headers=h),
            http.get("/hospital/metadata"),
            http.get("/Encounter", headers=h),
            http.get(f"{fhir_server.base_url}/static/css/nothing-here.css"),
        ]
    ids = [c.headers["x-request-id"] for c in calls]
    logged = {str(line["request_id"]): line for line in access_lines.lines}
    assert [(logged[i]["method"], logged[i]["route"], logged[i]["status"]) for i in ids] == [
        ("GET", "/fhir/metadata", 200),
        ("GET", "/fhir/Slot/{slot_id}", 200),
        ("POST", "/fhir/Slot", 200),  # POST _search runs the search route
        ("GET", "/fhir/hospital/metadata", 200),
        ("GET", "/fhir/{path}", 404),  # no route: the raw path is never written
        ("GET", "/static/{path}", 404),  # a mount of its own stays as it was
    ]
    assert slot_id not in json.dumps(access_lines.lines)
