"""IT admins keep the blacklist over the staff API: block, list, and lift after an
in-person appeal, which restores booking through every channel. Role-checked, audited."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from factories.demand import create_channel, resident_id
from factories.staff import create_staff, login
from factories.world import World
from fairslot.channels.models import ChannelKind
from fairslot.staff.models import StaffAction
from fairslot.staff.roles import Role

PHONE = "13900139000"


def h(key: str, device: str) -> dict[str, str]:
    return {"X-Channel-Key": key, "X-Device-Id": device, "X-End-User-IP": "198.51.100.20"}


def register(client: TestClient, key: str, device: str) -> tuple[int, int]:
    account = client.post("/v1/accounts", json={"phone": PHONE}, headers=h(key, device))
    assert account.status_code == 201, account.text
    account_id = account.json()["account_id"]
    patient = client.post(
        f"/v1/accounts/{account_id}/patients",
        json={"name": "李强", "id_number": resident_id(), "phone": PHONE},
        headers=h(key, device),
    )
    assert patient.status_code == 201, patient.text
    return account_id, patient.json()["patient_id"]


def audit_actions(world: World) -> list[tuple[str, str, str | None]]:
    world.db.rollback()
    rows = world.db.scalars(
        select(StaffAction).where(StaffAction.target_kind == "blacklist").order_by(StaffAction.id)
    ).all()
    world.db.commit()
    return [(r.action, r.actor, r.reason) for r in rows]


def test_a_phone_blocked_by_it_books_nowhere_until_lifted_in_person_at_the_desk(
    client: TestClient, world: World, it_admin: dict[str, str]
) -> None:
    session = world.session(capacity=4)
    _, alipay_key = create_channel(world.db, kind=ChannelKind.ALIPAY)
    world.db.commit()
    people = [
        (world.channel_key, "wechat-phone", *register(client, world.channel_key, "wechat-phone")),
        (alipay_key, "alipay-phone", *register(client, alipay_key, "alipay-phone")),
    ]
    world.platform.clock.advance(dt.timedelta(minutes=30))

    def holds() -> list[int]:
        return [
            client.post(
                "/v1/holds",
                json={"account_id": a, "patient_id": p, "session_id": session.id},
                headers=h(key, device),
            ).status_code
            for key, device, a, p in people
        ]

    blocked = client.post(
        "/staff/v1/blacklist",
        json={"scope": "phone", "value": "139 0013 9000", "reason": "ring confirmed by review"},
        headers=it_admin,
    )
    assert blocked.status_code == 201, blocked.text
    entry = blocked.json()
    assert entry["label"] == "139***00" and PHONE not in str(entry)  # masked, hash only
    assert entry["in_force"] is True and entry["expires_at"] is None
    assert entry["created_by"] == "it_li"
    assert holds() == [403, 403]
    assert [e["id"] for e in client.get("/staff/v1/blacklist", headers=it_admin).json()] == [
        entry["id"]
    ]

    lifted = client.post(
        f"/staff/v1/blacklist/{entry['id']}/lift",
        json={"checked": "ID card and phone SIM seen at the desk; the phone is his own"},
        headers=it_admin,
    )
    assert lifted.status_code == 200, lifted.text
    assert lifted.json()["in_force"] is False and lifted.json()["lifted_by"] == "it_li"
    assert holds() == [201, 201]
    assert client.get("/staff/v1/blacklist", headers=it_admin).json() == []
    everything = client.get("/staff/v1/blacklist", params={"all": "true"}, headers=it_admin)
    assert [e["lift_note"] for e in everything.json()] == [lifted.json()["lift_note"]]
    assert audit_actions(world) == [  # each action audited once, with who and why
        ("blacklist.add", "it_li", "ring confirmed by review"),
        ("blacklist.lift", "it_li", "ID card and phone SIM seen at the desk; the phone is his own"),
    ]


def test_a_block_with_days_expires_and_leaves_the_list_of_entries_in_force(
    client: TestClient, world: World, it_admin: dict[str, str]
) -> None:
    made = client.post(
        "/staff/v1/blacklist",
        json={"scope": "device", "value": "grab-bot-7", "reason": "grab script", "days": 2},
        headers=it_admin,
    )
    assert made.status_code == 201 and made.json()["expires_at"] is not None
    world.platform.clock.advance(dt.timedelta(days=2, seconds=1))
    it_admin = login(client, "it_li")  # a new day, a new token
    assert client.get("/staff/v1/blacklist", headers=it_admin).json() == []
    (old,) = client.get("/staff/v1/blacklist?all=true", headers=it_admin).json()
    assert old["in_force"] is False and old["lifted_at"] is None


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"scope": "patient", "value": "123", "reason": "r"}, 422, "invalid_identifier"),
        ({"scope": "phone", "value": "13900139000", "reason": " "}, 422, "reason_required"),
        ({"scope": "phone", "value": "13900139000", "reason": "r", "days": 0}, 422, None),
        ({"scope": "galaxy", "value": "x", "reason": "r"}, 422, "invalid_request"),
        ({"scope": "phone", "value": "13900139000", "reason": "r", "case_id": 999}, 404, None),
    ],
)
def test_a_block_needs_a_valid_identifier_a_reason_and_an_existing_case(
    client: TestClient,
    it_admin: dict[str, str],
    body: dict[str, object],
    status: int,
    code: str | None,
) -> None:
    response = client.post("/staff/v1/blacklist", json=body, headers=it_admin)
    assert response.status_code == status
    assert response.json()["error"] == (
        code or {404: "case_not_found", 422: "invalid_request"}[status]
    )


def test_blocking_twice_or_lifting_twice_is_a_conflict_and_an_unknown_entry_is_404(
    client: TestClient, it_admin: dict[str, str]
) -> None:
    body = {"scope": "network", "value": "198.51.100.99", "reason": "radar"}
    entry = client.post("/staff/v1/blacklist", json=body, headers=it_admin).json()
    again = client.post("/staff/v1/blacklist", json=body, headers=it_admin)
    lift = {"checked": "the hotel's owner came with the contract"}
    first = client.post(f"/staff/v1/blacklist/{entry['id']}/lift", json=lift, headers=it_admin)
    second = client.post(f"/staff/v1/blacklist/{entry['id']}/lift", json=lift, headers=it_admin)
    unknown = client.post("/staff/v1/blacklist/4242/lift", json=lift, headers=it_admin)
    assert (again.status_code, again.json()["error"]) == (409, "already_blocked")
    assert first.status_code == 200
    assert (second.status_code, second.json()["error"]) == (409, "already_lifted")
    assert (unknown.status_code, unknown.json()["error"]) == (404, "entry_not_found")


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("post", "/staff/v1/blacklist", {"scope": "device", "value": "d", "reason": "r"}),
        ("get", "/staff/v1/blacklist", None),
        ("post", "/staff/v1/blacklist/1/lift", {"checked": "ID card"}),
    ],
)
def test_only_it_admins_may_use_the_blacklist_endpoints(
    client: TestClient, world: World, method: str, path: str, body: dict | None
) -> None:
    for role in (Role.REVIEWER, Role.AUDITOR, Role.CUSTOMER_SERVICE):
        create_staff(world.db, username=role.value, roles={role}, now=world.now())
    anonymous = client.request(method, path, json=body)
    wrong_roles = [
        client.request(method, path, json=body, headers=login(client, role.value))
        for role in (Role.REVIEWER, Role.AUDITOR, Role.CUSTOMER_SERVICE)
    ]
    assert (anonymous.status_code, anonymous.json()["error"]) == (401, "staff_token_missing")
    assert {(r.status_code, r.json()["error"]) for r in wrong_roles} == {(403, "role_required")}
    assert audit_actions(world) == []
