"""What one access-log line says about a request: who asked (hospital, staff), the route
template, the status of a refusal made before any endpoint, and a request id of the
server's own making."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from factories.staff import create_staff, login
from factories.supply import create_hospital_with_key
from fairslot.api.access_log import ACCESS_LOGGER
from fairslot.bootstrap import Platform
from fairslot.staff.roles import Role


def lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    return [json.loads(r.getMessage()) for r in caplog.records if r.name == ACCESS_LOGGER]


def test_each_request_gets_a_line_naming_who_asked_and_a_fresh_request_id(
    client: TestClient, db: Session, platform: Platform, caplog: pytest.LogCaptureFixture
) -> None:
    hospital, key = create_hospital_with_key(db)
    db.commit()
    user = create_staff(db, username="wang", roles={Role.AUDITOR}, now=platform.clock.now())
    token = login(client, "wang")
    caplog.set_level(logging.INFO, logger=ACCESS_LOGGER)

    feed = client.get(
        "/hospital/v1/feed", headers={"X-Hospital-Key": key, "X-Request-Id": "13912345678"}
    )
    me = client.get("/staff/v1/me", headers=token)
    too_big = client.post("/v1/holds", content=b"x" * 70_000, headers={"X-Channel-Key": "k"})

    assert (feed.status_code, me.status_code, too_big.status_code) == (200, 200, 413)
    ids = [r.headers["X-Request-Id"] for r in (feed, me, too_big)]
    assert "13912345678" not in ids and len(set(ids)) == 3
    logged = {line["request_id"]: line for line in lines(caplog)}
    assert logged[ids[0]]["route"] == "/hospital/v1/feed"
    assert logged[ids[0]]["hospital"] == hospital.code
    assert logged[ids[1]]["staff_id"] == user.id
    assert logged[ids[1]]["route"] == "/staff/v1/me"
    # Refused before routing: no route was matched, and the raw path is never written.
    assert (logged[ids[2]]["route"], logged[ids[2]]["status"]) == ("-", 413)
