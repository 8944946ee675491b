"""IT admins manage staff accounts over the staff API; auditors read the audit log (who,
what, when, why). Each endpoint checks its role; each change is audited once."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient

from factories.staff import PASSWORD, login, signed_in
from fairslot.staff.roles import Role


@pytest.fixture
def auditor(db, platform, client: TestClient) -> dict[str, str]:
    return signed_in(
        client, db, username="audit_zhao", roles={Role.AUDITOR}, now=platform.clock.now()
    )


def new_reviewer(client: TestClient, it_admin: dict[str, str], username: str = "dr_wang"):
    return client.post(
        "/staff/v1/staff",
        json={
            "username": username,
            "display_name": "Dr Wang",
            "roles": ["reviewer"],
            "password": PASSWORD,
        },
        headers=it_admin,
    )


def test_an_it_admin_creates_changes_deactivates_and_reactivates_a_staff_member(
    client: TestClient, it_admin: dict[str, str], auditor: dict[str, str]
) -> None:
    made = new_reviewer(client, it_admin)
    assert made.status_code == 201, made.text
    assert made.json()["roles"] == ["reviewer"] and made.json()["created_by"] == "it_li"
    token = login(client, "dr_wang")

    roles = client.post(
        "/staff/v1/staff/dr_wang/roles",
        json={"roles": ["reviewer", "customer_service"], "reason": "covers the call desk"},
        headers=it_admin,
    )
    assert roles.json()["roles"] == ["customer_service", "reviewer"]
    off = client.post(
        "/staff/v1/staff/dr_wang/deactivate", json={"reason": "left the hospital"}, headers=it_admin
    )
    assert off.json()["active"] is False
    assert client.get("/staff/v1/me", headers=token).status_code == 401
    assert (
        client.post(
            "/staff/v1/login", json={"username": "dr_wang", "password": PASSWORD}
        ).status_code
        == 401
    )
    on = client.post(
        "/staff/v1/staff/dr_wang/activate", json={"reason": "came back"}, headers=it_admin
    )
    assert on.json()["active"] is True
    assert client.get("/staff/v1/me", headers=login(client, "dr_wang")).status_code == 200
    listed = client.get("/staff/v1/staff", headers=it_admin).json()
    assert [(s["username"], s["active"]) for s in listed] == [
        ("audit_zhao", True),
        ("dr_wang", True),
        ("it_li", True),
    ]

    log = client.get(
        "/staff/v1/audit", params={"actor": "it_li", "target_kind": "staff"}, headers=auditor
    ).json()["items"]
    assert [(a["action"], a["reason"]) for a in log] == [
        ("staff.activate", "came back"),
        ("staff.deactivate", "left the hospital"),
        ("staff.roles", "covers the call desk"),
        ("staff.create", None),
        ("staff.login", None),  # the admin's own login
    ]
    (member,) = {a["target_id"] for a in log[:4]}  # all four on the new member
    assert log[4]["target_id"] != member
    assert log[2]["data"] == {"before": "reviewer", "after": "customer_service,reviewer"}


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"username": "x", "roles": ["reviewer"], "password": "short"}, 422, "password_too_short"),
        ({"username": "x y", "roles": ["reviewer"], "password": PASSWORD}, 422, "invalid_username"),
        ({"username": "x", "roles": ["pope"], "password": PASSWORD}, 422, "invalid_request"),
        ({"username": "x", "roles": [], "password": PASSWORD}, 422, "invalid_request"),
        ({"username": "IT_LI", "roles": ["auditor"], "password": PASSWORD}, 409, "username_taken"),
    ],
)
def test_a_staff_account_needs_a_valid_name_known_roles_and_a_long_password(
    client: TestClient, it_admin: dict[str, str], body: dict, status: int, code: str
) -> None:
    response = client.post("/staff/v1/staff", json=body, headers=it_admin)
    assert (response.status_code, response.json()["error"]) == (status, code)


def test_deactivation_needs_a_reason_and_an_existing_member(
    client: TestClient, it_admin: dict[str, str]
) -> None:
    new_reviewer(client, it_admin)
    no_reason = client.post("/staff/v1/staff/dr_wang/deactivate", json={}, headers=it_admin)
    unknown = client.post(
        "/staff/v1/staff/nobody/deactivate", json={"reason": "r"}, headers=it_admin
    )
    assert (no_reason.status_code, no_reason.json()["error"]) == (422, "invalid_request")
    assert (unknown.status_code, unknown.json()["error"]) == (404, "staff_not_found")


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("get", "/staff/v1/staff", None),
        ("post", "/staff/v1/staff", {"username": "x", "roles": ["auditor"], "password": PASSWORD}),
        ("post", "/staff/v1/staff/it_li/roles", {"roles": ["auditor"], "reason": "coup"}),
        ("post", "/staff/v1/staff/it_li/deactivate", {"reason": "coup"}),
    ],
)
def test_only_it_admins_manage_staff(
    client: TestClient,
    it_admin: dict[str, str],
    auditor: dict[str, str],
    method: str,
    path: str,
    body: dict | None,
) -> None:
    anonymous = client.request(method, path, json=body)
    as_auditor = client.request(method, path, json=body, headers=auditor)
    assert (anonymous.status_code, anonymous.json()["error"]) == (401, "staff_token_missing")
    assert (as_auditor.status_code, as_auditor.json()["error"]) == (403, "role_required")
    assert client.get("/staff/v1/me", headers=it_admin).json()["roles"] == ["it_admin"]


def test_only_auditors_read_the_audit_log(
    client: TestClient, it_admin: dict[str, str], auditor: dict[str, str]
) -> None:
    assert client.get("/staff/v1/audit").json()["error"] == "staff_token_missing"
    refused = client.get("/staff/v1/audit", headers=it_admin)
    assert (refused.status_code, refused.json()["error"]) == (403, "role_required")
    assert client.get("/staff/v1/audit", headers=auditor).status_code == 200


def test_the_audit_log_filters_by_time_and_target_and_pages_back_by_id(
    client: TestClient, platform, it_admin: dict[str, str], auditor: dict[str, str]
) -> None:
    start = platform.clock.now()
    platform.clock.advance(dt.timedelta(hours=1))
    for name in ("a_one", "a_two", "a_three"):
        assert new_reviewer(client, it_admin, name).status_code == 201
    platform.clock.advance(dt.timedelta(hours=1))
    client.post("/staff/v1/staff/a_two/deactivate", json={"reason": "r"}, headers=it_admin)

    local_start = (start + dt.timedelta(minutes=30)).astimezone(dt.timezone(dt.timedelta(hours=8)))
    window = {
        "since": local_start.replace(tzinfo=None).isoformat(),  # no zone: the hospital's
        "until": (start + dt.timedelta(minutes=90)).isoformat(),
        "limit": 2,
    }
    first = client.get("/staff/v1/audit", params=window, headers=auditor).json()
    rest = client.get(
        "/staff/v1/audit",
        params={**window, "before_id": first["next_before_id"]},
        headers=auditor,
    ).json()
    created = [a["data"]["username"] for a in first["items"] + rest["items"]]
    assert created == ["a_three", "a_two", "a_one"]
    assert rest["next_before_id"] is None
    on_two = client.get(
        "/staff/v1/audit",
        params={"target_kind": "staff", "target_id": first["items"][1]["target_id"]},
        headers=auditor,
    ).json()["items"]
    assert [(a["action"], a["actor"]) for a in on_two] == [
        ("staff.deactivate", "it_li"),
        ("staff.create", "it_li"),
    ]
    assert on_two[0]["at"].endswith("+08:00")  # shown in the hospital's zone
