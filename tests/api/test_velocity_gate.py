"""Velocity signals at booking time, over HTTP on SQLite and PostgreSQL: each acting
request gets allow / review / block with its reasons, recorded with the request."""

from __future__ import annotations

import datetime as dt
import threading

from fastapi.testclient import TestClient
from sqlalchemy import select

from factories.demand import create_account, create_channel, create_patient, resident_id
from factories.world import RELEASED_DAY, World
from fairslot.audit.models import RequestRecord
from fairslot.blacklist import service as blacklist
from fairslot.blacklist.gate import refusal
from fairslot.blacklist.models import Scope
from fairslot.channels.models import ChannelKind
from fairslot.gate import realtime
from fairslot.gate import repository as gate_repo
from fairslot.staff.audit import cli_actor

LATER = dt.timedelta(hours=1)  # long enough after registration to be a person's pace


def h(key: str, device: str = "imei-1") -> dict[str, str]:
    return {"X-Channel-Key": key, "X-Device-Id": device, "X-End-User-IP": "198.51.100.20"}


def decisions(world: World, action: str) -> list[tuple[str | None, str | None, str]]:
    world.db.rollback()  # read what the requests committed
    rows = world.db.scalars(
        select(RequestRecord).where(RequestRecord.action == action).order_by(RequestRecord.id)
    ).all()
    world.db.commit()
    return [(r.decision, r.reasons, r.outcome) for r in rows]


def new_account(client: TestClient, world: World, phone: str) -> int:
    response = client.post("/v1/accounts", json={"phone": phone}, headers=h(world.channel_key))
    assert response.status_code == 201, response.text
    return int(response.json()["account_id"])


def bind(client: TestClient, world: World, account_id: int) -> tuple[int, dict]:
    response = client.post(
        f"/v1/accounts/{account_id}/patients",
        json={"name": "王芳", "id_number": resident_id(), "phone": "13900001111"},
        headers=h(world.channel_key),
    )
    return response.status_code, response.json()


def browse(client: TestClient, world: World, device: str) -> None:
    response = client.get(
        "/v1/availability",
        params={
            "department_id": world.department.id,
            "date_from": str(RELEASED_DAY),
            "date_to": str(RELEASED_DAY + dt.timedelta(days=2)),
        },
        headers=h(world.channel_key, device),
    )
    assert response.status_code == 200, response.text


def hold(
    client: TestClient, key: str, device: str, account_id: int, patient_id: int, session_id: int
):
    return client.post(
        "/v1/holds",
        json={"account_id": account_id, "patient_id": patient_id, "session_id": session_id},
        headers=h(key, device),
    )


def confirm(client: TestClient, world: World, device: str, account_id: int, booking_id: str):
    return client.post(
        f"/v1/bookings/{booking_id}/confirm",
        json={
            "account_id": account_id,
            "payment_account": "alipay:x@example",
            "payment_reference": "P",
        },
        headers=h(world.channel_key, device),
    )


def test_a_burst_of_bindings_on_one_account_is_reviewed_then_blocked(
    client: TestClient, world: World
) -> None:
    account_id = new_account(client, world, "13900001111")
    bound = []
    for _ in range(4):
        status, body = bind(client, world, account_id)
        assert status == 201
        bound.append(body["patient_id"])
    for patient_id in bound[:2]:  # two swaps: unbind one, bind another
        gone = client.delete(
            f"/v1/accounts/{account_id}/patients/{patient_id}", headers=h(world.channel_key)
        )
        assert gone.status_code == 204
        status, body = bind(client, world, account_id)
    assert status == 403 and body["error"] == "request_blocked"
    assert body["detail"] == refusal().detail  # the blacklist's words: nothing revealed

    assert decisions(world, "bind_patient") == [
        ("allow", None, "ok"),
        ("allow", None, "ok"),
        ("review", "binding_burst", "ok"),
        ("review", "binding_burst", "ok"),
        ("review", "binding_burst", "ok"),
        ("block", "binding_burst", "request_blocked"),
    ]
    listed = client.get(f"/v1/accounts/{account_id}/patients", headers=h(world.channel_key))
    assert len(listed.json()) == 3  # the blocked binding was not made

    world.platform.clock.advance(dt.timedelta(minutes=11))  # the burst is over
    assert bind(client, world, account_id)[0] == 201
    assert decisions(world, "bind_patient")[-1] == ("allow", None, "ok")


def test_a_device_used_by_a_sixth_patient_is_flagged_but_not_a_window_terminal(
    client: TestClient, world: World
) -> None:
    session = world.session(capacity=12)
    people = [world.patient() for _ in range(6)]
    window, window_key = create_channel(world.db, kind=ChannelKind.WINDOW)
    at_window = []
    for _ in range(6):
        account = create_account(world.db, world.platform, channel_id=window.id)
        at_window.append((account, create_patient(world.db, world.platform, account=account)))
    world.db.commit()
    world.platform.clock.advance(LATER)
    browse(client, world, "family-tablet")

    for account, patient in people:
        response = hold(
            client, world.channel_key, "family-tablet", account.id, patient.id, session.id
        )
        assert response.status_code == 201, response.text
    for account, patient in at_window:
        response = hold(client, window_key, "window-3", account.id, patient.id, session.id)
        assert response.status_code == 201, response.text

    holds = decisions(world, "hold")
    assert holds[:6] == [("allow", None, "ok")] * 5 + [("review", "device_patients", "ok")]
    assert holds[6:] == [("allow", None, "ok")] * 6


def test_a_hold_paid_faster_than_a_person_is_reviewed_and_blocked_when_repeated(
    client: TestClient, world: World
) -> None:
    sessions = [world.session(day=RELEASED_DAY + dt.timedelta(days=n)) for n in range(3)]
    account, patient = world.patient()
    person_account, person = world.patient()
    world.platform.clock.advance(LATER)
    browse(client, world, "grab-script")
    browse(client, world, "phone-of-a-person")

    answers, booking_ids = [], []
    for session in sessions:
        held = hold(client, world.channel_key, "grab-script", account.id, patient.id, session.id)
        assert held.status_code == 201, held.text
        booking_ids.append(held.json()["booking_id"])
        world.platform.clock.advance(dt.timedelta(seconds=1))
        answers.append(confirm(client, world, "grab-script", account.id, booking_ids[-1]))
    held = hold(
        client, world.channel_key, "phone-of-a-person", person_account.id, person.id, sessions[0].id
    )
    world.platform.clock.advance(dt.timedelta(seconds=40))  # a person opens the payment app
    paid = confirm(client, world, "phone-of-a-person", person_account.id, held.json()["booking_id"])

    assert [a.status_code for a in answers] == [200, 200, 403]
    assert answers[2].json()["error"] == "request_blocked"
    assert paid.status_code == 200
    assert decisions(world, "confirm") == [
        ("review", "fast_confirm", "ok"),
        ("review", "fast_confirm", "ok"),
        ("block", "fast_confirm,repeated_fast", "request_blocked"),
        ("allow", None, "ok"),
    ]
    status = client.get(
        f"/v1/bookings/{booking_ids[2]}",
        params={"account_id": account.id},
        headers=h(world.channel_key),
    )
    assert status.json()["status"] == "held"  # the blocked payment was not taken


def test_a_first_hold_right_after_registration_is_reviewed_with_its_reasons_stored(
    client: TestClient, world: World
) -> None:
    session = world.session(capacity=2)
    account_id = new_account(client, world, "13900002222")
    _, patient = bind(client, world, account_id)
    start = world.now()
    world.platform.clock.advance(dt.timedelta(seconds=5))
    held = hold(client, world.channel_key, "imei-1", account_id, patient["patient_id"], session.id)
    assert held.status_code == 201  # a review lets the request through

    world.db.rollback()
    record = world.db.scalars(select(RequestRecord).where(RequestRecord.action == "hold")).one()
    assert (record.decision, record.reasons) == ("review", "fast_first_hold,no_browse")
    assert record.patient_key is not None and record.booking_id == held.json()["booking_id"]
    flagged = gate_repo.review_decisions(
        world.db, start=start, end=world.now() + dt.timedelta(seconds=1)
    )
    assert [(f.action, f.decision, f.reasons, f.account_id, f.device_key) for f in flagged] == [
        ("hold", "review", ("fast_first_hold", "no_browse"), account_id, world.device_key("imei-1"))
    ]
    assert decisions(world, "register_account") == [("allow", None, "ok")]


def test_slow_mode_lets_a_suspect_through_late_while_a_blacklisted_identifier_is_refused(
    client: TestClient, world: World
) -> None:
    world.platform.settings = world.platform.settings.model_copy(
        update={"suspect_action": "slow", "suspect_delay_seconds": 0.3}
    )
    slept: list[float] = []  # the lane's delays, seen without waiting them out
    world.platform.extras["gate.slow_lane"] = realtime.SlowLane(max_waiting=4, sleep=slept.append)
    account_id = new_account(client, world, "13900003333")
    bound = [bind(client, world, account_id)[1]["patient_id"] for _ in range(4)]
    statuses = []
    for patient_id in bound[:2]:
        client.delete(
            f"/v1/accounts/{account_id}/patients/{patient_id}", headers=h(world.channel_key)
        )
        statuses.append(bind(client, world, account_id)[0])
    blacklist.block(
        world.db,
        scope=Scope.PHONE,
        value="13900004444",
        reason="confirmed scalper",
        actor=cli_actor("it"),
        now=world.now(),
        protector=world.platform.protector,
    )
    world.db.commit()
    refused = client.post(
        "/v1/accounts", json={"phone": "13900004444"}, headers=h(world.channel_key)
    )

    assert statuses == [201, 201] and slept == [0.3]  # only the 6th binding was a block
    assert decisions(world, "bind_patient")[-1] == ("review", "binding_burst,slowed", "ok")
    assert refused.status_code == 403 and refused.json()["error"] == "request_blocked"
    assert decisions(world, "register_account")[-1] == ("block", "blacklisted", "request_blocked")


def test_a_full_slow_lane_refuses_at_once_instead_of_taking_more_threads(platform) -> None:
    inside, let_go = threading.Event(), threading.Event()
    slept: list[tuple[str, float]] = []

    def sleep(seconds: float) -> None:
        slept.append((threading.current_thread().name, seconds))
        if threading.current_thread().name == "sleeper":
            inside.set()
            let_go.wait(timeout=60)  # held in the lane until the test lets it go

    lane = realtime.SlowLane(max_waiting=1, sleep=sleep)
    first, second = platform.sessions(), platform.sessions()
    sleeper = threading.Thread(
        target=lane.wait, args=(first,), kwargs={"seconds": 0.5}, name="sleeper"
    )
    sleeper.start()
    assert inside.wait(timeout=60)  # the one place is taken
    answers: list[bool] = []
    # In a thread of its own, so that a lane that made it queue fails the test, not hangs it.
    refused = threading.Thread(
        target=lambda: answers.append(lane.wait(second, seconds=0.5)), name="refused"
    )
    refused.start()
    refused.join(timeout=60)
    finished = not refused.is_alive()
    let_go.set()
    sleeper.join(timeout=60)
    refused.join(timeout=60)

    assert finished and answers == [False]  # refused while the place was taken, not queued
    assert slept == [("sleeper", 0.5)]  # and it never slept
    assert lane.wait(second, seconds=60) is True  # the place is free again; the delay capped
    assert slept[-1] == (threading.current_thread().name, realtime.MAX_SUSPECT_DELAY_SECONDS)
    first.close()
    second.close()
