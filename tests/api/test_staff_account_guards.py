"""No one changes their own roles or deactivates themselves, the last active IT admin
stays, and a role change says why — over the staff API (and the service, where the API
cannot reach: the CLI acts for no staff account). Failed sign-ins leave an audit row.
SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from factories.staff import PASSWORD, create_staff, login
from fairslot.bootstrap import Platform
from fairslot.errors import DomainError
from fairslot.staff import service as staff_service
from fairslot.staff.audit import cli_actor
from fairslot.staff.models import StaffAction, StaffUser
from fairslot.staff.roles import Role


def _refused(response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"] == code
    assert body["detail"] and body["detail_zh"]


def _user(db: Session, username: str) -> StaffUser:
    db.rollback()
    return db.scalars(select(StaffUser).where(StaffUser.username == username)).one()


def test_an_it_admin_cannot_grant_themselves_the_reviewer_role(
    client: TestClient, it_admin: dict[str, str], db: Session
) -> None:
    response = client.post(
        "/staff/v1/staff/it_li/roles",
        json={"roles": ["it_admin", "reviewer"], "reason": "I will decide cases myself"},
        headers=it_admin,
    )

    _refused(response, 403, "own_roles")
    assert _user(db, "it_li").roles == "it_admin"


def test_an_it_admin_cannot_deactivate_themselves(
    client: TestClient, it_admin: dict[str, str], db: Session
) -> None:
    response = client.post(
        "/staff/v1/staff/it_li/deactivate", json={"reason": "leaving"}, headers=it_admin
    )

    _refused(response, 403, "own_account")
    assert _user(db, "it_li").active is True


def test_one_it_admin_may_remove_another_but_never_the_last(
    client: TestClient, it_admin: dict[str, str], db: Session, platform: Platform
) -> None:
    create_staff(db, username="it_zhou", roles={Role.IT_ADMIN}, now=platform.clock.now())
    zhou = login(client, "it_zhou")

    demoted = client.post(
        "/staff/v1/staff/it_zhou/roles",
        json={"roles": ["scheduler"], "reason": "moved to the schedules desk"},
        headers=it_admin,
    )
    # it_li is now the only IT admin: nobody can take that away from them.
    by_cli = cli_actor("root")
    for attempt in (
        lambda: staff_service.set_roles(
            db,
            username="it_li",
            roles=frozenset({Role.AUDITOR}),
            by=by_cli,
            now=platform.clock.now(),
            reason="rotation",
        ),
        lambda: staff_service.set_active(
            db,
            username="it_li",
            active=False,
            reason="left",
            by=by_cli,
            now=platform.clock.now(),
        ),
    ):
        with pytest.raises(DomainError) as refused:
            attempt()
        db.rollback()
        assert (refused.value.code, refused.value.status) == ("last_it_admin", 409)
        assert refused.value.extra["detail_zh"]

    assert demoted.status_code == 200, demoted.text
    assert client.get("/staff/v1/staff", headers=zhou).status_code == 403
    it_li = _user(db, "it_li")
    assert (it_li.roles, it_li.active) == ("it_admin", True)


def test_an_inactive_it_admin_does_not_count_as_the_other_one(
    db: Session, platform: Platform
) -> None:
    now = platform.clock.now()
    create_staff(db, username="it_li", roles={Role.IT_ADMIN}, now=now)
    create_staff(db, username="it_zhou", roles={Role.IT_ADMIN}, now=now)
    staff_service.set_active(
        db, username="it_zhou", active=False, reason="left", by=cli_actor("root"), now=now
    )
    db.commit()

    with pytest.raises(DomainError) as refused:
        staff_service.set_active(
            db, username="it_li", active=False, reason="left", by=cli_actor("root"), now=now
        )

    assert refused.value.code == "last_it_admin"


def test_a_role_change_needs_a_reason_and_records_who_and_why(
    client: TestClient, it_admin: dict[str, str], db: Session, platform: Platform
) -> None:
    create_staff(db, username="dr_wang", roles={Role.REVIEWER}, now=platform.clock.now())

    without = client.post(
        "/staff/v1/staff/dr_wang/roles", json={"roles": ["auditor"]}, headers=it_admin
    )
    blank = client.post(
        "/staff/v1/staff/dr_wang/roles",
        json={"roles": ["auditor"], "reason": "  "},
        headers=it_admin,
    )
    changed = client.post(
        "/staff/v1/staff/dr_wang/roles",
        json={"roles": ["auditor"], "reason": "joined the audit office"},
        headers=it_admin,
    )

    assert without.status_code == 422
    _refused(blank, 422, "reason_required")
    assert changed.status_code == 200, changed.text
    db.rollback()
    rows = db.scalars(select(StaffAction).where(StaffAction.action == "staff.roles")).all()
    assert [(r.actor, r.reason, r.data) for r in rows] == [
        ("it_li", "joined the audit office", {"before": "reviewer", "after": "auditor"})
    ]


@pytest.mark.parametrize("username", ["wang", "nobody"])
def test_a_failed_sign_in_is_audited_with_the_username_tried_and_never_the_password(
    client: TestClient, db: Session, platform: Platform, username: str
) -> None:
    create_staff(db, username="wang", roles={Role.REVIEWER}, now=platform.clock.now())
    wrong = "Wrong-Password-123456"

    response = client.post("/staff/v1/login", json={"username": username, "password": wrong})

    assert (response.status_code, response.json()["error"]) == (401, "login_failed")
    db.rollback()
    (row,) = db.scalars(select(StaffAction).where(StaffAction.action == "staff.login_failed"))
    assert row.data["username"] == username
    assert row.staff_id is None
    seen = f"{row.actor} {row.target_id} {row.reason} {row.data}"
    assert wrong not in seen and PASSWORD not in seen


def test_a_successful_sign_in_leaves_no_failure_row(
    client: TestClient, db: Session, platform: Platform
) -> None:
    create_staff(db, username="wang", roles={Role.REVIEWER}, now=platform.clock.now())

    login(client, "wang")

    db.rollback()
    actions = db.scalars(select(StaffAction.action)).all()
    assert "staff.login" in actions and "staff.login_failed" not in actions
