"""The console's session: the cookie's flags, expiry with the staff token, the CSRF token
on every form, sign-out, password change — over HTTP on both backends."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from factories.console import csrf_of, sign_in
from factories.staff import PASSWORD, create_staff
from fairslot.bootstrap import Platform
from fairslot.clock import ManualClock
from fairslot.staff.models import StaffAction
from fairslot.staff.roles import Role
from fairslot.web.site import create_site


def test_the_session_cookie_is_httponly_strict_and_secure_over_https(
    db: Session, platform: Platform
) -> None:
    create_staff(db, username="wang", roles={Role.REVIEWER}, now=platform.clock.now())
    with TestClient(create_site(platform), base_url="https://console.example") as client:
        form = client.get("/console/login")
        response = client.post(
            "/console/login",
            data={"username": "wang", "password": PASSWORD, "csrf_token": csrf_of(form.text)},
            follow_redirects=False,
        )
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("fairslot_console=")
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    assert "Secure" in cookie
    assert response.headers["strict-transport-security"].startswith("max-age=")


def test_a_sign_in_without_the_forms_token_is_refused(
    site: TestClient, db: Session, platform: Platform
) -> None:
    create_staff(db, username="wang", roles={Role.REVIEWER}, now=platform.clock.now())
    response = site.post(
        "/console/login", data={"username": "wang", "password": PASSWORD}, follow_redirects=False
    )
    assert response.status_code == 403
    assert "fairslot_console" not in response.headers.get("set-cookie", "")


def test_the_session_ends_with_the_staff_token(
    site: TestClient, db: Session, platform: Platform, clock: ManualClock
) -> None:
    create_staff(db, username="wang", roles={Role.REVIEWER}, now=platform.clock.now())
    sign_in(site, "wang")
    clock.advance(timedelta(hours=platform.settings.staff_token_hours, seconds=1))
    response = site.get("/console/?x=1", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/console/login?next=/console/%3Fx%3D1&expired=1"
    assert "登录已过期" in site.get(response.headers["location"]).text


def test_a_post_without_the_csrf_token_changes_nothing(
    site: TestClient, db: Session, platform: Platform
) -> None:
    create_staff(db, username="wang", roles={Role.REVIEWER}, now=platform.clock.now())
    session = sign_in(site, "wang")
    response = session.post("/console/logout", data={"csrf_token": "forged"})
    assert response.status_code == 403
    assert "表单已过期" in response.text
    assert session.get("/console/").status_code == 200  # still signed in


def test_signing_out_ends_the_session_and_is_audited(
    site: TestClient, db: Session, platform: Platform
) -> None:
    create_staff(db, username="wang", roles={Role.REVIEWER}, now=platform.clock.now())
    session = sign_in(site, "wang")
    assert session.post("/console/logout").status_code == 303
    assert session.get("/console/", follow_redirects=False).status_code == 303
    actions = db.scalars(select(StaffAction.action).order_by(StaffAction.id)).all()
    assert actions[-2:] == ["staff.login", "staff.logout"]


def test_a_password_change_needs_the_current_password_and_signs_out(
    site: TestClient, db: Session, platform: Platform
) -> None:
    create_staff(db, username="wang", roles={Role.REVIEWER}, now=platform.clock.now())
    session = sign_in(site, "wang")
    new = "a-much-better-passphrase"
    wrong = session.post("/console/password", {"current": "nope", "new": new, "again": new})
    assert wrong.status_code == 422
    assert "当前密码不正确" in wrong.text
    changed = session.post("/console/password", {"current": PASSWORD, "new": new, "again": new})
    assert changed.status_code == 303
    assert session.get("/console/", follow_redirects=False).status_code == 303
    sign_in(site, "wang", password=new)


def test_every_page_carries_the_security_headers(site: TestClient) -> None:
    response = site.get("/console/login")
    policy = response.headers["content-security-policy"]
    assert "default-src 'self'" in policy
    assert "script-src 'self';" in policy
    assert "frame-ancestors 'none'" in policy
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "strict-transport-security" not in response.headers  # plain HTTP


def test_the_console_root_and_an_unknown_page_answer_as_pages(site: TestClient) -> None:
    assert site.get("/console", follow_redirects=False).headers["location"] == "/console/"
    response = site.get("/console/no-such-page")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "找不到该页面" in response.text
    api = site.get("/v1/no-such-endpoint")
    assert api.json()["error"] == "not_found"
