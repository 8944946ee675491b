"""The access log of a real ``fairslot serve``: one JSON line per request with the route
template, status and who asked, and nothing personal — everything the server wrote is
searched for every personal value the requests carried."""

from __future__ import annotations

import json
import os
from typing import Any

import httpx

from conftest import START
from factories.demand import resident_id
from factories.world import World
from fairslot.localserver import running_server

NAME = "欧阳明月"
PHONE = "13912345678"
PAYMENT_ACCOUNT = "alipay-7788990011@example.cn"
END_USER_IP = "203.0.113.77"
DEVICE = "imei-86420135792468"


def test_a_real_run_logs_each_request_with_its_route_and_never_a_personal_value(
    world: World,
) -> None:
    id_number = resident_id()
    session = world.session(capacity=3)
    env = {k: v for k, v in os.environ.items() if not k.startswith("FAIRSLOT_")}
    env |= {
        "FAIRSLOT_DATABASE_URL": world.platform.settings.database_url,
        # The world's sessions are released on its (manual) clock: the server starts there.
        "FAIRSLOT_SIM_CLOCK_START": START.isoformat(),
        # The test client is the trusted proxy; the end user's address is forwarded.
        "FAIRSLOT_TRUSTED_PROXIES": "127.0.0.1/32",
        "FAIRSLOT_VELOCITY_ENABLED": "false",  # a test is faster than a person
    }
    headers = {
        "X-Channel-Key": world.channel_key,
        "X-Device-Id": DEVICE,
        "X-End-User-IP": END_USER_IP,
        "X-Forwarded-For": END_USER_IP,
    }
    with (
        running_server(workers=1, env=env) as server,
        httpx.Client(base_url=server.base_url, headers=headers, timeout=30) as http,
    ):
        account = http.post("/v1/accounts", json={"phone": PHONE})
        assert account.status_code == 201, account.text
        account_id = account.json()["account_id"]
        patient = http.post(
            f"/v1/accounts/{account_id}/patients",
            json={"name": NAME, "id_number": id_number, "phone": PHONE},
        )
        assert patient.status_code == 201, patient.text
        hold = http.post(
            "/v1/holds",
            json={
                "account_id": account_id,
                "patient_id": patient.json()["patient_id"],
                "session_id": session.id,
            },
        )
        assert hold.status_code == 201, hold.text
        booking_id = hold.json()["booking_id"]
        confirm = http.post(
            f"/v1/bookings/{booking_id}/confirm",
            json={
                "account_id": account_id,
                "payment_account": PAYMENT_ACCOUNT,
                "payment_reference": "pay-1",
            },
        )
        assert confirm.status_code == 200, confirm.text
        # A refusal, and a path that matches nothing but carries the ID number.
        refused = http.post(f"/v1/bookings/{booking_id}/confirm", json={})
        unknown = http.get(f"/v1/lookup/{id_number}", params={"phone": PHONE})
    request_ids = [
        r.headers["X-Request-Id"] for r in (account, patient, hold, confirm, refused, unknown)
    ]

    for value in (NAME, id_number, PHONE, PAYMENT_ACCOUNT, END_USER_IP, DEVICE, "203.0.113"):
        assert value not in server.log, f"{value!r} is in the server's log"
    lines = [_access_line(line) for line in server.log.splitlines()]
    logged = {line["request_id"]: line for line in lines if line is not None}
    seen = [
        (logged[rid]["method"], logged[rid]["route"], logged[rid]["status"]) for rid in request_ids
    ]
    assert seen == [
        ("POST", "/v1/accounts", 201),
        ("POST", "/v1/accounts/{account_id}/patients", 201),
        ("POST", "/v1/holds", 201),
        ("POST", "/v1/bookings/{booking_id}/confirm", 200),
        ("POST", "/v1/bookings/{booking_id}/confirm", 422),
        ("GET", "-", 404),
    ]
    confirmed = logged[request_ids[3]]
    assert confirmed["channel"] == world.channel.code
    assert confirmed["subject"] == logged[request_ids[2]]["subject"]  # the same account
    assert confirmed["subject"] and str(account_id) != confirmed["subject"]
    assert isinstance(confirmed["ms"], float)


def _access_line(line: str) -> dict[str, Any] | None:
    if not line.startswith("{"):
        return None
    parsed: dict[str, Any] = json.loads(line)
    return parsed if "request_id" in parsed else None
