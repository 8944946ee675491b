"""Staff members with roles, and their bearer tokens for the staff API."""

from __future__ import annotations

import datetime as dt

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from fairslot.staff import service as staff_service
from fairslot.staff.audit import StaffActor, cli_actor
from fairslot.staff.models import StaffUser
from fairslot.staff.roles import Role

PASSWORD = "correct-horse-battery-staple"


def create_staff(
    db: Session, *, username: str, roles: set[Role] | frozenset[Role], now: dt.datetime
) -> StaffUser:
    """A committed staff account with ``PASSWORD``."""
    user = staff_service.create_user(
        db,
        username=username,
        display_name=username.title(),
        roles=frozenset(roles),
        password=PASSWORD,
        by=cli_actor("it-setup"),
        now=now,
    )
    db.commit()
    return user


def actor(user: StaffUser) -> StaffActor:
    return staff_service.actor_of(user)


def login(client: TestClient, username: str) -> dict[str, str]:
    """The Authorization header of a fresh login."""
    response = client.post("/staff/v1/login", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def signed_in(
    client: TestClient,
    db: Session,
    *,
    username: str,
    roles: set[Role] | frozenset[Role],
    now: dt.datetime,
) -> dict[str, str]:
    """A new staff account with ``roles``, logged in: its Authorization header."""
    create_staff(db, username=username, roles=roles, now=now)
    return login(client, username)
