"""Password guessing against staff sign-in slows the guesser's address, never the real
user elsewhere: per (username, address) and per address, with growing delays. Over HTTP
through a trusted proxy (X-Forwarded-For), on both backends."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from factories.console import csrf_of, page_text
from factories.console import sign_in as console_sign_in
from factories.staff import PASSWORD, create_staff
from fairslot.api.staff_signin import guard_for
from fairslot.bootstrap import Platform
from fairslot.clock import ManualClock
from fairslot.config import Settings, load_settings
from fairslot.gate.ratelimit import make_rate_limiter
from fairslot.staff.models import StaffAction
from fairslot.staff.roles import Role
from fairslot.web.site import create_site

ATTACKER = "203.0.113.66"
REAL_USER = "198.51.100.23"


@pytest.fixture
def settings(database_url: str) -> Settings:
    # The per-request rate limit is not what is tested here: only the sign-in throttle.
    return load_settings(
        database_url=database_url,
        db_pool_size=5,
        rate_limits="1000/second",
        staff_login_wait_seconds=0,  # a busy sign-in is refused at once (no timing here)
    )


@pytest.fixture
def site(platform: Platform) -> Iterator[TestClient]:
    # The peer is the trusted proxy (127.0.0.1); the client is what it forwards.
    with TestClient(
        create_site(platform), raise_server_exceptions=False, client=("127.0.0.1", 40000)
    ) as client:
        yield client


def sign_in(site: TestClient, username: str, password: str, address: str):  # type: ignore[no-untyped-def]
    return site.post(
        "/staff/v1/login",
        json={"username": username, "password": password},
        headers={"X-Forwarded-For": address},
    )


def test_a_hundred_wrong_passwords_from_one_address_do_not_keep_the_real_user_out(
    site: TestClient, db: Session, platform: Platform
) -> None:
    # The platform's own request limits too (20/second, 100/minute per address): they
    # used to count the username as well, which locked its owner out from everywhere.
    platform.limiter = make_rate_limiter(
        limits=load_settings().rate_limits, redis_url=None, enabled=True
    )
    create_staff(db, username="wang", roles={Role.REVIEWER}, now=platform.clock.now())

    guesses = [sign_in(site, "wang", f"guess-{i:03}", ATTACKER) for i in range(100)]
    real = sign_in(site, "wang", PASSWORD, REAL_USER)

    assert real.status_code == 200, real.text
    assert [g.status_code for g in guesses[:5]] == [401] * 5
    throttled = guesses[5:]
    assert {g.status_code for g in throttled} == {429}
    body = throttled[0].json()
    assert body["error"] == "sign_in_throttled"
    assert body["detail"] and body["detail_zh"]
    assert int(throttled[0].headers["Retry-After"]) >= 1
    db.rollback()
    failed = db.scalars(select(StaffAction).where(StaffAction.action == "staff.login_failed"))
    # Only the five tries that were let through were hashed and audited, masked.
    rows = list(failed)
    assert len(rows) == 5
    assert {row.data["address"] for row in rows} == {"203.0.113.x"}
    assert all(ATTACKER not in str(row.data) for row in rows)


def test_the_wait_doubles_with_each_failure_and_then_lets_the_pair_try_again(
    site: TestClient, db: Session, platform: Platform, clock: ManualClock
) -> None:
    create_staff(db, username="wang", roles={Role.REVIEWER}, now=platform.clock.now())
    for i in range(5):
        assert sign_in(site, "wang", f"guess-{i}", ATTACKER).status_code == 401

    waits = []
    for i in range(3):
        refused = sign_in(site, "wang", "guess", ATTACKER)
        assert refused.status_code == 429
        waits.append(int(refused.headers["Retry-After"]))
        clock.advance(timedelta(seconds=waits[-1]))
        assert sign_in(site, "wang", f"again-{i}", ATTACKER).status_code == 401

    assert waits == [1, 2, 4]
    clock.advance(timedelta(seconds=8))
    assert sign_in(site, "wang", PASSWORD, ATTACKER).status_code == 200


def test_rotating_usernames_from_one_address_is_throttled(
    site: TestClient, db: Session, platform: Platform
) -> None:
    create_staff(db, username="wang", roles={Role.REVIEWER}, now=platform.clock.now())

    tries = [sign_in(site, f"user{i:02}", "guess", ATTACKER) for i in range(30)]
    real = sign_in(site, "wang", PASSWORD, REAL_USER)

    codes = [t.status_code for t in tries]
    assert codes[:20] == [401] * 20
    assert set(codes[20:]) == {429}
    assert tries[-1].json()["error"] == "sign_in_throttled"
    assert real.status_code == 200


def test_the_console_form_is_throttled_the_same_way(
    site: TestClient, db: Session, platform: Platform
) -> None:
    create_staff(db, username="wang", roles={Role.REVIEWER}, now=platform.clock.now())
    statuses = []
    for i in range(7):
        form = site.get("/console/login")
        response = site.post(
            "/console/login",
            data={"username": "wang", "password": f"g-{i}", "csrf_token": csrf_of(form.text)},
            headers={"X-Forwarded-For": ATTACKER},
            follow_redirects=False,
        )
        statuses.append(response.status_code)
    assert statuses == [401] * 5 + [429] * 2
    assert response.headers["Retry-After"]


def test_staff_are_shown_their_failed_sign_ins_since_the_last_one(
    site: TestClient, db: Session, platform: Platform, clock: ManualClock
) -> None:
    create_staff(db, username="wang", roles={Role.REVIEWER}, now=platform.clock.now())
    assert sign_in(site, "wang", PASSWORD, REAL_USER).status_code == 200  # an earlier visit
    clock.advance(timedelta(hours=2))
    for i in range(3):
        assert sign_in(site, "wang", f"guess-{i}", ATTACKER).status_code == 401
    clock.advance(timedelta(minutes=5))
    token = sign_in(site, "wang", PASSWORD, REAL_USER).json()["token"]
    me = site.get("/staff/v1/me", headers={"Authorization": f"Bearer {token}"})
    clock.advance(timedelta(hours=2))
    assert sign_in(site, "nobody", "guess", ATTACKER).status_code == 401  # not wang's
    for i in range(2):
        assert sign_in(site, "wang", f"later-{i}", ATTACKER).status_code == 401
    home = console_sign_in(site, "wang").get("/console/")

    assert me.json()["recent_failed_sign_ins"] == {
        "count": 3,
        "last_at": "2026-11-22T02:00:00Z",
        "last_from": "203.0.113.x",
    }
    assert home.status_code == 200
    text = page_text(home.text)
    assert (
        "自上次登录以来有 2 次失败的登录尝试（最近一次 2026-11-22 12:05，来自 203.0.113.x）" in text
    )
    assert ATTACKER not in home.text


def test_a_clean_history_shows_no_notice(site: TestClient, db: Session, platform: Platform) -> None:
    create_staff(db, username="wang", roles={Role.REVIEWER}, now=platform.clock.now())
    home = console_sign_in(site, "wang").get("/console/")
    assert home.status_code == 200
    assert "失败的登录尝试" not in home.text


def test_a_sign_in_beyond_the_concurrent_bound_is_refused_without_hashing(
    site: TestClient, db: Session, platform: Platform
) -> None:
    create_staff(db, username="wang", roles={Role.REVIEWER}, now=platform.clock.now())
    admission = guard_for(platform).admission
    taken = [admission.try_enter() for _ in range(platform.settings.staff_login_concurrency)]
    assert all(taken) and not admission.try_enter()  # every place is in use

    refused = sign_in(site, "wang", "guess", ATTACKER)
    for _ in taken:
        admission.leave()
    afterwards = sign_in(site, "wang", PASSWORD, REAL_USER)

    assert refused.status_code == 429
    assert refused.json()["error"] == "sign_in_busy"
    assert refused.json()["detail_zh"]
    assert refused.headers["Retry-After"] == "1"
    assert afterwards.status_code == 200
    db.rollback()
    failed = db.scalars(select(StaffAction).where(StaffAction.action == "staff.login_failed"))
    assert list(failed) == []  # the refused guess was never checked
