"""The client's own step timing (``X-Client-Step-Ms``) over HTTP: recorded with the
request, read by the gate beside the server's arrival spacing, and a malformed value is
ignored rather than refused."""

from __future__ import annotations

import datetime as dt

from fastapi.testclient import TestClient
from sqlalchemy import select

from factories.world import RELEASED_DAY, World
from fairslot.audit.models import RequestRecord

LATER = dt.timedelta(hours=1)


def h(world: World, step: str | None = None) -> dict[str, str]:
    headers = {
        "X-Channel-Key": world.channel_key,
        "X-Device-Id": "page-phone",
        "X-End-User-IP": "198.51.100.20",
    }
    if step is not None:
        headers["X-Client-Step-Ms"] = step
    return headers


def held(client: TestClient, world: World, account_id: int, patient_id: int, session_id: int):
    client.get(
        "/v1/availability",
        params={"department_id": world.department.id},
        headers=h(world),
    )
    answer = client.post(
        "/v1/holds",
        json={"account_id": account_id, "patient_id": patient_id, "session_id": session_id},
        headers=h(world, "4200"),
    )
    assert answer.status_code == 201, answer.text
    return answer.json()["booking_id"]


def pay(client: TestClient, world: World, account_id: int, booking_id: str, step: str | None):
    return client.post(
        f"/v1/bookings/{booking_id}/confirm",
        json={"account_id": account_id, "payment_account": "alipay:x@example"}
        | {"payment_reference": f"P-{booking_id[:8]}"},
        headers=h(world, step),
    )


def confirms(world: World) -> list[tuple[int | None, str | None, str | None]]:
    world.db.rollback()
    rows = world.db.scalars(
        select(RequestRecord).where(RequestRecord.action == "confirm").order_by(RequestRecord.id)
    ).all()
    world.db.commit()
    return [(r.client_step_ms, r.decision, r.reasons) for r in rows]


def test_a_page_reporting_a_quick_payment_step_is_reviewed_though_the_server_saw_a_slow_one(
    client: TestClient, world: World
) -> None:
    sessions = [world.session(day=RELEASED_DAY + dt.timedelta(days=n)) for n in range(2)]
    account, patient = world.patient()
    world.platform.clock.advance(LATER)
    first = held(client, world, account.id, patient.id, sessions[0].id)
    # 20 s pass on the server's clock (say its answer to the hold was slow); the page
    # says the person spent 0.6 s on the payment step
    world.platform.clock.advance(dt.timedelta(seconds=20))
    assert pay(client, world, account.id, first, "600").status_code == 200
    second = held(client, world, account.id, patient.id, sessions[1].id)
    world.platform.clock.advance(dt.timedelta(seconds=20))
    assert pay(client, world, account.id, second, "9000").status_code == 200

    assert confirms(world) == [(600, "review", "fast_confirm"), (9000, "allow", None)]


def test_a_malformed_step_is_ignored_and_the_request_goes_through(
    client: TestClient, world: World
) -> None:
    session = world.session(capacity=2)
    account, patient = world.patient()
    world.platform.clock.advance(LATER)
    booking = held(client, world, account.id, patient.id, session.id)
    world.platform.clock.advance(dt.timedelta(seconds=20))
    assert pay(client, world, account.id, booking, "soon").status_code == 200
    assert confirms(world) == [(None, "allow", None)]
