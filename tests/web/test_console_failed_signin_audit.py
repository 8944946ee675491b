"""A wrong password at the console's sign-in form leaves the same audit row as at the
staff API (``staff.login_failed``, the username tried, never the password), although the
page rolls the refusal back. Over HTTP on both backends."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from factories.console import csrf_of
from factories.staff import create_staff
from fairslot.bootstrap import Platform
from fairslot.staff.models import StaffAction
from fairslot.staff.roles import Role


def test_a_wrong_password_at_the_console_is_audited_without_the_password(
    site: TestClient, db: Session, platform: Platform
) -> None:
    create_staff(db, username="wang", roles={Role.REVIEWER}, now=platform.clock.now())
    form = site.get("/console/login")

    response = site.post(
        "/console/login",
        data={
            "username": "Wang",
            "password": "Guessed-Password-1",
            "csrf_token": csrf_of(form.text),
        },
        follow_redirects=False,
    )

    assert response.status_code == 401
    db.rollback()
    (row,) = db.scalars(select(StaffAction).where(StaffAction.action == "staff.login_failed"))
    assert row.data["username"] == "wang"
    assert "Guessed-Password-1" not in f"{row.actor} {row.target_id} {row.reason} {row.data}"
