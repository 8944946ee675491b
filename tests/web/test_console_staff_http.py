"""The staff accounts pages over HTTP on SQLite and PostgreSQL: an IT admin creates an
account, changes its roles and deactivates and reactivates it, each audited with its
reason; other roles and posts without the page's token are refused."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from factories.console import ConsoleSession, sign_in
from factories.staff import PASSWORD, create_staff
from fairslot.bootstrap import Platform
from fairslot.staff import repository as staff_repo
from fairslot.staff.models import StaffAction, StaffUser
from fairslot.staff.roles import Role


def it_admin(site: TestClient, db: Session, platform: Platform) -> ConsoleSession:
    create_staff(db, username="it_li", roles={Role.IT_ADMIN}, now=platform.clock.now())
    return sign_in(site, "it_li")


def account(db: Session, username: str) -> StaffUser:
    db.commit()
    user = staff_repo.by_username(db, username)
    assert user is not None
    db.refresh(user)
    return user


def audited(db: Session, action: str) -> list[StaffAction]:
    """The console's audit rows of ``action`` (not the test's own set-up through the CLI)."""
    db.commit()
    return list(
        db.scalars(
            select(StaffAction).where(
                StaffAction.action == action, StaffAction.actor.not_like("cli:%")
            )
        )
    )


NEW = {
    "username": "sun_auditor",
    "display_name": "孙审计",
    "password": "a-long-initial-password",
    "roles": ["auditor"],
}


def test_the_list_shows_every_account_with_its_roles_and_the_new_account_form(
    site: TestClient, db: Session, platform: Platform
) -> None:
    create_staff(db, username="wang", roles={Role.REVIEWER}, now=platform.clock.now())
    session = it_admin(site, db, platform)
    page = session.get("/console/staff")
    assert page.status_code == 200
    assert 'href="/console/staff/wang"' in page.text and "审核员" in page.text
    assert 'name="roles" value="scheduler"' in page.text
    assert 'name="password"' in page.text


def test_an_it_admin_creates_an_account_that_can_sign_in_with_its_initial_password(
    site: TestClient, db: Session, platform: Platform
) -> None:
    session = it_admin(site, db, platform)
    created = session.post("/console/staff", data=NEW)
    assert created.status_code == 303
    assert created.headers["location"] == "/console/staff/sun_auditor?done=staff_created"
    user = account(db, "sun_auditor")
    assert user.roles == "auditor" and user.active and user.created_by == "it_li"
    (row,) = audited(db, "staff.create")
    assert row.actor == "it_li" and row.data == {"username": "sun_auditor", "roles": "auditor"}
    shown = session.get(created.headers["location"])
    assert "账号已创建" in shown.text and "孙审计" in shown.text
    with TestClient(site.app) as other:
        sign_in(other, "sun_auditor", password=NEW["password"])


def test_a_taken_username_and_a_short_password_are_refused_in_the_page_language(
    site: TestClient, db: Session, platform: Platform
) -> None:
    session = it_admin(site, db, platform)
    taken = session.post("/console/staff", data={**NEW, "username": "it_li"})
    assert taken.status_code == 409 and "用户名已被使用" in taken.text
    short = session.post("/console/staff", data={**NEW, "password": "short"})
    assert short.status_code == 422
    assert audited(db, "staff.create") == []


def test_roles_are_changed_with_the_reason_before_and_after_audited(
    site: TestClient, db: Session, platform: Platform
) -> None:
    create_staff(db, username="zhou", roles={Role.SCHEDULER}, now=platform.clock.now())
    session = it_admin(site, db, platform)
    changed = session.post(
        "/console/staff/zhou/roles",
        data={"roles": ["scheduler", "auditor"], "reason": "兼任审计"},
    )
    assert changed.status_code == 303
    assert changed.headers["location"] == "/console/staff/zhou?done=staff_roles_changed"
    assert account(db, "zhou").roles == "auditor,scheduler"
    (row,) = audited(db, "staff.roles")
    assert row.reason == "兼任审计"
    assert row.data == {"before": "scheduler", "after": "auditor,scheduler"}
    page = session.get("/console/staff/zhou")
    assert 'value="auditor" checked' in page.text
    none = session.post("/console/staff/zhou/roles", data={"reason": "no roles"})
    assert none.status_code == 422 and "请至少选择一个角色" in none.text


def test_an_account_is_deactivated_then_reactivated_each_with_its_reason(
    site: TestClient, db: Session, platform: Platform
) -> None:
    create_staff(db, username="zhou", roles={Role.SCHEDULER}, now=platform.clock.now())
    with TestClient(site.app) as theirs:
        signed = sign_in(theirs, "zhou")
        session = it_admin(site, db, platform)
        off = session.post("/console/staff/zhou/deactivate", data={"reason": "离职"})
        assert off.status_code == 303
        assert not account(db, "zhou").active
        # Their session ends at once.
        assert signed.get("/console/", follow_redirects=False).status_code == 303
    on = session.post("/console/staff/zhou/activate", data={"reason": "返聘"})
    assert on.status_code == 303
    assert account(db, "zhou").active
    assert [r.reason for r in audited(db, "staff.deactivate")] == ["离职"]
    assert [r.reason for r in audited(db, "staff.activate")] == ["返聘"]
    no_reason = session.post("/console/staff/zhou/deactivate", data={"reason": " "})
    assert no_reason.status_code == 422
    assert account(db, "zhou").active


def test_a_scheduler_sees_no_staff_page_and_its_forged_posts_are_refused(
    site: TestClient, db: Session, platform: Platform
) -> None:
    create_staff(db, username="zhou", roles={Role.SCHEDULER}, now=platform.clock.now())
    session = sign_in(site, "zhou")
    assert 'href="/console/staff"' not in session.get("/console/").text
    assert session.get("/console/staff").status_code == 403
    assert session.get("/console/staff/zhou").status_code == 403
    forged = session.post("/console/staff", data={**NEW, "roles": ["it_admin"]})
    assert forged.status_code == 403 and "role_required" in forged.text
    grant = session.post("/console/staff/zhou/roles", data={"roles": ["it_admin"], "reason": "x"})
    assert grant.status_code == 403
    db.commit()
    assert staff_repo.by_username(db, "sun_auditor") is None
    assert account(db, "zhou").roles == "scheduler"


def test_a_post_without_the_csrf_token_is_refused(
    site: TestClient, db: Session, platform: Platform
) -> None:
    it_admin(site, db, platform)
    refused = site.post(
        "/console/staff",
        data={**NEW, "password": PASSWORD},
        follow_redirects=False,
    )
    assert refused.status_code == 403 and "csrf_failed" in refused.text
    db.commit()
    assert staff_repo.by_username(db, "sun_auditor") is None
