"""Staff log in with an argon2-checked password, get a bearer token, and every staff
endpoint checks it; logging out or deactivation ends it. Logins are audited."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from factories.staff import PASSWORD, create_staff, login
from fairslot.staff import service as staff_service
from fairslot.staff.audit import cli_actor
from fairslot.staff.models import StaffAction, StaffUser
from fairslot.staff.roles import Role


def test_a_password_is_stored_only_as_an_argon2_hash(db, platform) -> None:
    user = create_staff(db, username="wang", roles={Role.REVIEWER}, now=platform.clock.now())
    assert user.password_hash.startswith("$argon2")
    assert PASSWORD not in user.password_hash


def test_it_logs_in_and_the_token_names_the_roles(db, platform, client) -> None:
    create_staff(db, username="wang", roles={Role.REVIEWER, Role.AUDITOR}, now=platform.clock.now())
    me = client.get("/staff/v1/me", headers=login(client, "wang"))
    assert me.status_code == 200
    assert me.json() == {
        "username": "wang",
        "roles": ["auditor", "reviewer"],
        "recent_failed_sign_ins": {"count": 0, "last_at": None, "last_from": None},
    }
    actions = db.scalars(select(StaffAction.action).order_by(StaffAction.id)).all()
    assert actions == ["staff.create", "staff.login"]


def test_a_wrong_password_or_unknown_name_gets_the_same_refusal(db, platform, client) -> None:
    create_staff(db, username="wang", roles={Role.REVIEWER}, now=platform.clock.now())
    wrong = client.post("/staff/v1/login", json={"username": "wang", "password": "nope-nope-nope"})
    unknown = client.post("/staff/v1/login", json={"username": "nobody", "password": PASSWORD})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert wrong.json()["error"] == "login_failed"


def test_a_token_expires_and_logout_revokes_it(db, platform, client) -> None:
    create_staff(db, username="wang", roles={Role.REVIEWER}, now=platform.clock.now())
    headers = login(client, "wang")
    platform.clock.advance(dt.timedelta(hours=platform.settings.staff_token_hours, seconds=1))
    assert client.get("/staff/v1/me", headers=headers).json()["error"] == "staff_token_invalid"
    headers = login(client, "wang")
    assert client.post("/staff/v1/logout", headers=headers).status_code == 204
    assert client.get("/staff/v1/me", headers=headers).status_code == 401


def test_deactivating_a_member_of_staff_ends_their_tokens(db, platform, client) -> None:
    create_staff(db, username="wang", roles={Role.REVIEWER}, now=platform.clock.now())
    headers = login(client, "wang")
    staff_service.set_active(
        db,
        username="wang",
        active=False,
        reason="left the hospital",
        by=cli_actor("it"),
        now=platform.clock.now(),
    )
    db.commit()
    assert client.get("/staff/v1/me", headers=headers).status_code == 401
    again = client.post("/staff/v1/login", json={"username": "wang", "password": PASSWORD})
    assert again.status_code == 401


def test_a_request_without_a_bearer_token_is_refused(client) -> None:
    assert client.get("/staff/v1/me").json()["error"] == "staff_token_missing"
    basic = client.get("/staff/v1/me", headers={"Authorization": "Basic d2FuZzp4"})
    assert basic.json()["error"] == "staff_token_missing"


def test_short_passwords_and_duplicate_names_are_refused(db, platform) -> None:
    create_staff(db, username="wang", roles={Role.REVIEWER}, now=platform.clock.now())
    with pytest.raises(Exception) as short:
        staff_service.create_user(
            db,
            username="li",
            display_name="Li",
            roles=frozenset({Role.REVIEWER}),
            password="short",
            by=cli_actor("it"),
            now=platform.clock.now(),
        )
    assert getattr(short.value, "code", None) == "password_too_short"
    with pytest.raises(Exception) as taken:
        staff_service.create_user(
            db,
            username="WANG",
            display_name="W",
            roles=frozenset({Role.REVIEWER}),
            password=PASSWORD,
            by=cli_actor("it"),
            now=platform.clock.now(),
        )
    assert getattr(taken.value, "code", None) == "username_taken"
    assert db.scalars(select(StaffUser.username)).all() == ["wang"]


def test_the_audit_log_refuses_edits(db, platform) -> None:
    create_staff(db, username="wang", roles={Role.REVIEWER}, now=platform.clock.now())
    row = db.scalars(select(StaffAction)).first()
    assert row is not None
    row.reason = "rewritten history"
    with pytest.raises(Exception, match="append-only"):
        db.commit()
