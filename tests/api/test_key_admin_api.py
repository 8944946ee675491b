"""A leaked key is revoked through the staff API: IT admins rotate a channel's or a
hospital's key and deactivate a channel; the old key is refused at once (this process
forgets the key it remembered), and each step is audited without the key. SQLite and
PostgreSQL."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from factories.demand import create_channel
from factories.staff import signed_in
from factories.supply import create_hospital_with_key
from fairslot.bootstrap import Platform
from fairslot.staff.models import StaffAction
from fairslot.staff.roles import Role


@pytest.fixture
def channel_key(db: Session) -> str:
    _, key = create_channel(db, code="leaky")
    db.commit()
    return key


def _browse(client: TestClient, key: str) -> int:
    return client.get("/v1/hospitals", headers={"X-Channel-Key": key}).status_code


def _audit(db: Session, action: str) -> list[StaffAction]:
    db.rollback()
    return list(db.scalars(select(StaffAction).where(StaffAction.action == action)))


def test_a_rotated_channel_key_is_refused_at_once_and_the_new_one_works(
    client: TestClient, it_admin: dict[str, str], channel_key: str, db: Session
) -> None:
    assert _browse(client, channel_key) == 200  # and remembered by this process

    response = client.post(
        "/staff/v1/channels/leaky/rotate-key",
        json={"reason": "the key was pasted in a public chat"},
        headers=it_admin,
    )

    assert response.status_code == 200, response.text
    new_key = response.json()["api_key"]
    assert response.json()["code"] == "leaky" and new_key.startswith("ck_")
    assert _browse(client, channel_key) == 401
    assert _browse(client, new_key) == 200
    (row,) = _audit(db, "channel.rotate_key")
    assert (row.actor, row.target_id, row.reason) == (
        "it_li",
        "leaky",
        "the key was pasted in a public chat",
    )
    assert new_key not in str(row.data) and channel_key not in str(row.data)


def test_a_deactivated_channel_is_refused_at_once(
    client: TestClient, it_admin: dict[str, str], channel_key: str, db: Session
) -> None:
    assert _browse(client, channel_key) == 200

    without_reason = client.post("/staff/v1/channels/leaky/deactivate", json={}, headers=it_admin)
    off = client.post(
        "/staff/v1/channels/leaky/deactivate",
        json={"reason": "the partner was found reselling slots"},
        headers=it_admin,
    )
    again = client.post(
        "/staff/v1/channels/leaky/deactivate", json={"reason": "again"}, headers=it_admin
    )

    assert without_reason.status_code == 422
    assert off.status_code == 200, off.text
    assert off.json() == {"code": "leaky", "active": False}
    assert _browse(client, channel_key) == 401
    assert (again.status_code, again.json()["error"]) == (409, "channel_inactive")
    assert again.json()["detail_zh"]
    (row,) = _audit(db, "channel.deactivate")
    assert (row.actor, row.reason) == ("it_li", "the partner was found reselling slots")


def test_a_rotated_hospital_key_is_refused_at_once(
    client: TestClient, it_admin: dict[str, str], db: Session
) -> None:
    _, old_key = create_hospital_with_key(db, code="HK1")
    db.commit()

    def sessions(key: str) -> int:
        return client.get("/hospital/v1/sessions", headers={"X-Hospital-Key": key}).status_code

    assert sessions(old_key) == 200
    response = client.post("/staff/v1/hospitals/HK1/rotate-key", json={}, headers=it_admin)

    assert response.status_code == 200, response.text
    new_key = response.json()["api_key"]
    assert sessions(old_key) == 401
    assert sessions(new_key) == 200
    (row,) = _audit(db, "hospital.rotate_key")
    assert (row.actor, row.target_id) == ("it_li", "HK1")
    assert new_key not in str(row.data) and old_key not in str(row.data)


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/staff/v1/channels/leaky/rotate-key", {}),
        ("/staff/v1/channels/leaky/deactivate", {"reason": "r"}),
        ("/staff/v1/hospitals/HK1/rotate-key", {}),
    ],
)
def test_only_it_admins_revoke_keys(
    client: TestClient,
    db: Session,
    platform: Platform,
    channel_key: str,
    path: str,
    body: dict[str, str],
) -> None:
    create_hospital_with_key(db, code="HK1")
    db.commit()
    scheduler = signed_in(
        client, db, username="sched", roles={Role.SCHEDULER}, now=platform.clock.now()
    )

    anonymous = client.post(path, json=body)
    refused = client.post(path, json=body, headers=scheduler)

    assert (anonymous.status_code, anonymous.json()["error"]) == (401, "staff_token_missing")
    assert (refused.status_code, refused.json()["error"]) == (403, "role_required")
    assert _browse(client, channel_key) == 200


@pytest.mark.parametrize(
    ("path", "code"),
    [
        ("/staff/v1/channels/nope/rotate-key", "channel_not_found"),
        ("/staff/v1/channels/nope/deactivate", "channel_not_found"),
        ("/staff/v1/hospitals/NOPE/rotate-key", "hospital_not_found"),
    ],
)
def test_an_unknown_channel_or_hospital_is_a_404(
    client: TestClient, it_admin: dict[str, str], path: str, code: str
) -> None:
    response = client.post(path, json={"reason": "r"}, headers=it_admin)

    assert (response.status_code, response.json()["error"]) == (404, code)
