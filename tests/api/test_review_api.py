"""The review queue and follow-up calls over HTTP, on SQLite and PostgreSQL: the whole
loop from a scalper's bookings to a phone blocked on every channel, role checks on every
staff endpoint, and what the evidence never shows."""

from __future__ import annotations

import re
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx
from fastapi.testclient import TestClient

from factories.demand import create_channel, resident_id
from factories.risk import (
    AlertSpec,
    book_for_patients,
    file_later_alert,
    open_case,
    payment_case,
)
from factories.staff import signed_in
from factories.world import World
from fairslot.channels.models import ChannelKind
from fairslot.staff.roles import Role

CASES = "/staff/v1/cases"
CALLS = "/staff/v1/calls"
MASKED_ID = re.compile(r"^\d{3}\*{11}[\dX]{4}$")


def staff_headers(client: TestClient, world: World, name: str, *roles: Role) -> dict[str, str]:
    return signed_in(client, world.db, username=name, roles=set(roles), now=world.now())


def channel_headers(key: str, device: str = "grab-bot-9") -> dict[str, str]:
    return {"X-Channel-Key": key, "X-Device-Id": device, "X-End-User-IP": "198.51.100.77"}


def register(client: TestClient, key: str, phone: str, id_number: str) -> tuple[int, int]:
    account = client.post("/v1/accounts", json={"phone": phone}, headers=channel_headers(key))
    assert account.status_code == 201, account.text
    account_id = account.json()["account_id"]
    patient = client.post(
        f"/v1/accounts/{account_id}/patients",
        json={"name": "李强", "id_number": id_number, "phone": phone},
        headers=channel_headers(key),
    )
    assert patient.status_code == 201, patient.text
    return account_id, patient.json()["patient_id"]


def hold_and_pay(
    client: TestClient, key: str, account_id: int, patient_id: int, session_id: int
) -> str:
    held = client.post(
        "/v1/holds",
        json={"account_id": account_id, "patient_id": patient_id, "session_id": session_id},
        headers=channel_headers(key),
    )
    assert held.status_code == 201, held.text
    booking_id: str = held.json()["booking_id"]
    paid = client.post(
        f"/v1/bookings/{booking_id}/confirm",
        json={
            "account_id": account_id,
            "payment_account": "6222020000009999",
            "payment_reference": f"pay-{booking_id[:8]}",
        },
        headers=channel_headers(key),
    )
    assert paid.status_code == 200, paid.text
    return booking_id


def test_a_confirmed_case_blocks_its_phone_on_every_channel(
    client: TestClient, world: World
) -> None:
    _, alipay_key = create_channel(world.db, kind=ChannelKind.ALIPAY)
    world.db.commit()
    phone = "13912345678"
    account_id, patient_id = register(client, world.channel_key, phone, resident_id())
    other_account, other_patient = register(client, alipay_key, phone, resident_id())
    booked = hold_and_pay(client, world.channel_key, account_id, patient_id, world.session().id)
    case = open_case(
        world,
        subject_kind="device",
        subject_key="grab-bot-9",
        subject_label="gra***-9",
        alerts=[
            AlertSpec(
                rule="shared_device",
                entity_kind="device",
                entity_key="grab-bot-9",
                entity_label="gra***-9",
                score=1.4,
                explanation="one device used for 7 patients",
                booking_ids=[booked],
            )
        ],
    )
    reviewer = staff_headers(client, world, "wang", Role.REVIEWER)

    taken = client.post(f"{CASES}/next", headers=reviewer)
    assert taken.status_code == 200, taken.text
    evidence = taken.json()
    assert evidence["case"]["case_id"] == case.id
    assert evidence["case"]["status"] == "in_review"
    assert evidence["case"]["assigned_to"] == "wang"
    assert {c["scope"] for c in evidence["candidates"]} >= {"phone", "device", "account"}
    confirmed = client.post(
        f"{CASES}/{case.id}/confirm",
        json={
            "scopes": ["phone"],
            "days": None,
            "reason": "bot device booking for a broker",
            "evidence_version": 1,
        },
        headers=reviewer,
    )
    assert confirmed.status_code == 200, confirmed.text
    body = confirmed.json()
    assert body["case"]["status"] == "confirmed" and body["already_blocked"] == []
    assert {b["scope"] for b in body["blocked"]} == {"phone"}
    assert all(b["expires_at"] is None for b in body["blocked"])
    # the patient's upcoming booking is taken back, its slot cooling
    assert body["bookings_withdrawn"] == 1

    session_id = world.session().id
    for key, account, patient in (
        (world.channel_key, account_id, patient_id),
        (alipay_key, other_account, other_patient),
    ):
        refused = client.post(
            "/v1/holds",
            json={"account_id": account, "patient_id": patient, "session_id": session_id},
            headers=channel_headers(key, device="a-clean-phone"),
        )
        assert refused.status_code == 403, refused.text
        assert refused.json()["error"] == "request_blocked"
    again = client.get(f"{CASES}/{case.id}", headers=reviewer).json()
    assert all(c["blocked"] for c in again["candidates"] if c["scope"] == "phone")
    assert not any(c["blocked"] for c in again["candidates"] if c["scope"] == "device")
    assert [e["kind"] for e in again["history"]][-2:] == ["taken", "confirmed"]


def test_the_evidence_shows_masked_ids_local_times_and_never_a_full_id_or_phone(
    client: TestClient, world: World
) -> None:
    op = book_for_patients(world, patients=3, wifi="home-ap-3")
    case = payment_case(world, op)
    reviewer = staff_headers(client, world, "wang", Role.REVIEWER)
    auditor = staff_headers(client, world, "sun", Role.AUDITOR)

    taken = client.post(f"{CASES}/next", headers=reviewer)
    read = client.get(f"{CASES}/{case.id}", headers=auditor)

    protector = world.platform.protector
    secrets = set()
    for patient in op.patients:
        number = protector.decrypt(patient.id_encrypted)
        phone = protector.decrypt(patient.phone_encrypted)  # +86 form
        secrets |= {number, phone, phone.removeprefix("+86")}
    secrets.add(protector.decrypt(op.account.phone_encrypted).removeprefix("+86"))
    secrets.add(op.payer)
    for response in (taken, read):
        assert response.status_code == 200, response.text
        assert not [s for s in secrets if s in response.text]
    evidence = read.json()
    assert len(evidence["bookings"]) == 3
    for row in evidence["bookings"]:
        assert MASKED_ID.match(row["patient"]["id_masked"])
        assert row["patient"]["name"] in {p.name_masked for p in op.patients}
        assert row["department"] == world.department.name
        assert row["device_key"] == world.device_key(op.device)
        assert row["ip_key"] == world.network_key(op.ip) and row["ip_label"].endswith(".x")
        assert row["held_at"].endswith("+08:00")
    assert evidence["case"]["opened_at"].endswith("+08:00")
    assert {e["kind"] for e in evidence["slot_events"]} >= {"held", "booked"}
    assert evidence["alerts"][0]["rule"] == "same_payment_same_department"
    assert [e["kind"] for e in evidence["history"]] == ["opened", "alert_added", "taken"]
    network = [c for c in evidence["candidates"] if c["scope"] == "network"]
    assert sorted(c["label"].split()[0] for c in network) == ["ip", "wifi"]


def test_an_empty_queue_answers_404_queue_empty_in_json(client: TestClient, world: World) -> None:
    reviewer = staff_headers(client, world, "wang", Role.REVIEWER)
    agent = staff_headers(client, world, "zhao", Role.CUSTOMER_SERVICE)
    for path, headers in ((f"{CASES}/next", reviewer), (f"{CALLS}/next", agent)):
        response = client.post(path, headers=headers)
        assert response.status_code == 404
        assert response.json()["error"] == "queue_empty" and response.json()["detail"]


def test_a_decision_on_evidence_read_before_new_alerts_is_refused_409_in_both_languages(
    client: TestClient, world: World
) -> None:
    case = payment_case(world, book_for_patients(world, patients=2))
    wang = staff_headers(client, world, "wang", Role.REVIEWER)
    taken = client.post(f"{CASES}/next", headers=wang).json()
    read = taken["case"]["evidence_version"]
    file_later_alert(world, case, book_for_patients(world, patients=2).booking_ids)
    decision = {"scopes": ["phone"], "days": None, "reason": "bot", "evidence_version": read}

    for verb, body in (
        ("confirm", decision),
        ("dismiss", {"reason": "a family", "evidence_version": read}),
    ):
        refused = client.post(f"{CASES}/{case.id}/{verb}", json=body, headers=wang)
        assert refused.status_code == 409, refused.text
        assert refused.json()["error"] == "case_evidence_changed"
        assert "read it again" in refused.json()["detail"]
        assert "请重新查看" in refused.json()["detail_zh"]

    again = client.get(f"{CASES}/{case.id}", headers=wang).json()
    assert again["case"]["evidence_version"] == read + 1 and len(again["alerts"]) == 2
    done = client.post(
        f"{CASES}/{case.id}/confirm", json={**decision, "evidence_version": read + 1}, headers=wang
    )
    assert done.status_code == 200, done.text


def test_refusals_over_http_carry_their_codes(client: TestClient, world: World) -> None:
    case = payment_case(world, book_for_patients(world, patients=2))
    wang = staff_headers(client, world, "wang", Role.REVIEWER)
    li = staff_headers(client, world, "li", Role.REVIEWER)
    decision = {"scopes": ["device"], "days": 30, "reason": "bot", "evidence_version": 1}

    untaken = client.post(f"{CASES}/{case.id}/confirm", json=decision, headers=wang)
    client.post(f"{CASES}/next", headers=wang)
    not_yours = client.post(f"{CASES}/{case.id}/confirm", json=decision, headers=li)
    no_scope = client.post(
        f"{CASES}/{case.id}/confirm", json={**decision, "scopes": []}, headers=wang
    )
    bad_days = client.post(
        f"{CASES}/{case.id}/confirm", json={**decision, "days": 10**9}, headers=wang
    )
    no_reason = client.post(
        f"{CASES}/{case.id}/dismiss", json={"reason": " ", "evidence_version": 1}, headers=wang
    )
    missing = client.get(f"{CASES}/424242", headers=wang)
    huge_id = client.get(f"{CASES}/99999999999", headers=wang)

    assert [
        (r.status_code, r.json()["error"])
        for r in (untaken, not_yours, no_scope, bad_days, no_reason, missing, huge_id)
    ] == [
        (409, "case_not_taken"),
        (409, "case_not_yours"),
        (422, "scopes_required"),
        (422, "invalid_days"),
        (422, "reason_required"),
        (404, "case_not_found"),
        (422, "invalid_request"),
    ]
    dismissed = client.post(
        f"{CASES}/{case.id}/dismiss",
        json={"reason": "a family", "evidence_version": 1},
        headers=wang,
    )
    assert dismissed.status_code == 200 and dismissed.json()["status"] == "dismissed"
    closed = client.post(f"{CASES}/{case.id}/release", headers=wang)
    assert (closed.status_code, closed.json()["error"]) == (409, "case_closed")
    listed = client.get(CASES, headers=wang, params={"status": "dismissed"})
    assert [c["case_id"] for c in listed.json()["cases"]] == [case.id]
    assert client.get(CASES, headers=wang, params={"status": "open"}).json()["cases"] == []


def test_the_calls_loop_over_http_returns_the_case_with_its_outcomes(
    client: TestClient, world: World
) -> None:
    op = book_for_patients(world, patients=2)
    case = payment_case(world, op)
    reviewer = staff_headers(client, world, "wang", Role.REVIEWER)
    agent = staff_headers(client, world, "zhao", Role.CUSTOMER_SERVICE)
    other_agent = staff_headers(client, world, "qian", Role.CUSTOMER_SERVICE)
    client.post(f"{CASES}/next", headers=reviewer)

    asked = client.post(
        f"{CASES}/{case.id}/calls", json={"question": "Did you book it yourself?"}, headers=reviewer
    )
    assert asked.status_code == 201, asked.text
    assert asked.json()["case"]["status"] == "awaiting_call" and len(asked.json()["tasks"]) == 2

    phones = {world.platform.protector.decrypt(p.phone_encrypted) for p in op.patients}
    for outcome in ("suspicious", "genuine"):
        call = client.post(f"{CALLS}/next", headers=agent)
        assert call.status_code == 200, call.text
        task = call.json()
        assert task["patient"]["phone_in_full"] and task["patient"]["phone"] in phones
        assert task["question"] == "Did you book it yourself?" and task["case_id"] == case.id
        assert task["booking"]["department"] == world.department.name
        peek = client.get(f"{CALLS}/{task['task_id']}", headers=other_agent).json()
        assert not peek["patient"]["phone_in_full"] and peek["patient"]["phone"] not in phones
        bad = client.post(
            f"{CALLS}/{task['task_id']}/outcome", json={"outcome": "maybe"}, headers=agent
        )
        assert (bad.status_code, bad.json()["error"]) == (422, "invalid_request")
        done = client.post(
            f"{CALLS}/{task['task_id']}/outcome",
            json={"outcome": outcome, "note": "asked about the doctor"},
            headers=agent,
        )
        assert done.status_code == 200, done.text
        assert done.json()["status"] == "done" and done.json()["outcome"] == outcome

    back = client.get(f"{CASES}/{case.id}", headers=reviewer).json()
    assert back["case"]["status"] == "open"
    assert sorted(c["outcome"] for c in back["calls"]) == ["genuine", "suspicious"]
    assert back["history"][-1]["kind"] == "calls_done"
    assert back["history"][-1]["data"] == {"outcomes": {"genuine": 1, "suspicious": 1}}
    assert client.post(f"{CASES}/next", headers=reviewer).json()["case"]["case_id"] == case.id


def test_an_agent_puts_a_call_back_over_http_and_another_agent_takes_it(
    client: TestClient, world: World
) -> None:
    case = payment_case(world, book_for_patients(world, patients=1))
    reviewer = staff_headers(client, world, "wang", Role.REVIEWER)
    agent = staff_headers(client, world, "zhao", Role.CUSTOMER_SERVICE)
    other_agent = staff_headers(client, world, "qian", Role.CUSTOMER_SERVICE)
    client.post(f"{CASES}/next", headers=reviewer)
    asked = client.post(f"{CASES}/{case.id}/calls", json={"question": "q"}, headers=reviewer)
    assert asked.status_code == 201, asked.text
    task_id = client.post(f"{CALLS}/next", headers=agent).json()["task_id"]

    released = client.post(f"{CALLS}/{task_id}/release", headers=agent)
    again = client.post(f"{CALLS}/{task_id}/release", headers=agent)
    taken = client.post(f"{CALLS}/next", headers=other_agent)

    assert released.status_code == 200, released.text
    assert released.json()["status"] == "pending"
    assert (again.status_code, again.json()["error"]) == (409, "call_not_taken")
    assert taken.status_code == 200, taken.text
    assert taken.json()["task_id"] == task_id


REVIEWER_ONLY = [
    ("post", f"{CASES}/next", None),
    ("post", f"{CASES}/1/release", None),
    (
        "post",
        f"{CASES}/1/confirm",
        {"scopes": ["phone"], "days": None, "reason": "r", "evidence_version": 1},
    ),
    ("post", f"{CASES}/1/dismiss", {"reason": "r", "evidence_version": 1}),
    ("post", f"{CASES}/1/calls", {"question": "q"}),
]
READERS = [("get", CASES, None), ("get", f"{CASES}/1", None)]
CUSTOMER_SERVICE = [
    ("post", f"{CALLS}/next", None),
    ("get", f"{CALLS}/1", None),
    ("post", f"{CALLS}/1/outcome", {"outcome": "genuine", "note": None}),
    ("post", f"{CALLS}/1/release", None),
]
EVERY = REVIEWER_ONLY + READERS + CUSTOMER_SERVICE


def test_every_staff_endpoint_refuses_a_request_without_a_token(client: TestClient) -> None:
    for method, path, body in EVERY:
        response = client.request(method, path, json=body)
        assert response.status_code == 401, (method, path)
        assert response.json()["error"] == "staff_token_missing", (method, path)


def test_every_staff_endpoint_refuses_a_token_without_its_role_and_answers_one_with_it(
    client: TestClient, world: World
) -> None:
    agent = staff_headers(client, world, "zhao", Role.CUSTOMER_SERVICE)
    reviewer = staff_headers(client, world, "wang", Role.REVIEWER)
    auditor = staff_headers(client, world, "sun", Role.AUDITOR)
    it_admin = staff_headers(client, world, "it", Role.IT_ADMIN, Role.SCHEDULER)
    wrong = (
        [(e, h) for e in REVIEWER_ONLY for h in (agent, auditor, it_admin)]
        + [(e, h) for e in READERS for h in (agent, it_admin)]
        + [(e, h) for e in CUSTOMER_SERVICE for h in (reviewer, auditor, it_admin)]
    )
    for (method, path, body), headers in wrong:
        response = client.request(method, path, json=body, headers=headers)
        assert response.status_code == 403, (method, path, response.text)
        assert response.json()["error"] == "role_required"
    # ... and lets the right role through, to the endpoint's own answer: with no case or
    # call in the database that is an empty list or a 404 naming what is missing.
    right = (
        [(e, reviewer) for e in REVIEWER_ONLY + READERS]
        + [(e, auditor) for e in READERS]
        + [(e, agent) for e in CUSTOMER_SERVICE]
    )
    for (method, path, body), headers in right:
        response = client.request(method, path, json=body, headers=headers)
        assert (response.status_code, _error(response)) == RIGHT_ROLE_ANSWER[method, path], (
            method,
            path,
            response.text,
        )


# What each endpoint answers the role it is for, before any case or call exists.
RIGHT_ROLE_ANSWER = {
    ("post", f"{CASES}/next"): (404, "queue_empty"),
    ("post", f"{CASES}/1/release"): (404, "case_not_found"),
    ("post", f"{CASES}/1/confirm"): (404, "case_not_found"),
    ("post", f"{CASES}/1/dismiss"): (404, "case_not_found"),
    ("post", f"{CASES}/1/calls"): (404, "case_not_found"),
    ("get", CASES): (200, None),
    ("get", f"{CASES}/1"): (404, "case_not_found"),
    ("post", f"{CALLS}/next"): (404, "queue_empty"),
    ("get", f"{CALLS}/1"): (404, "call_not_found"),
    ("post", f"{CALLS}/1/outcome"): (404, "call_not_found"),
    ("post", f"{CALLS}/1/release"): (404, "call_not_found"),
}


def _error(response: httpx.Response) -> str | None:
    body = response.json()
    return body.get("error") if isinstance(body, dict) else None


def test_reviewers_pressing_next_at_once_over_http_never_share_a_case(
    client: TestClient, world: World, backend: str
) -> None:
    cases = [payment_case(world, book_for_patients(world, patients=1)) for _ in range(4)]
    headers = [staff_headers(client, world, f"r{n:02d}", Role.REVIEWER) for n in range(12)]
    barrier = threading.Barrier(len(headers))

    def press(h: dict[str, str]) -> httpx.Response:
        barrier.wait(timeout=60)
        return client.post(f"{CASES}/next", headers=h)

    with ThreadPoolExecutor(max_workers=len(headers)) as pool:
        responses = list(pool.map(press, headers))

    statuses = Counter(r.status_code for r in responses)
    print(f"\n[{backend}] 12 reviewers over HTTP, 4 cases: {dict(statuses)}")
    taken = [r.json()["case"]["case_id"] for r in responses if r.status_code == 200]
    assert sorted(taken) == sorted(c.id for c in cases)
    assert statuses == {200: 4, 404: 8}
    assert {r.json()["error"] for r in responses if r.status_code == 404} == {"queue_empty"}
