"""The console's blacklist over HTTP on both backends: what IT sees, finding by an
identifier typed in, blocking through the form, lifting in person with what was checked,
and the refusals (another role, a forged post, a post without the CSRF token)."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from factories.console import ConsoleSession, sign_in
from factories.staff import create_staff
from fairslot.blacklist import service
from fairslot.blacklist.models import BlacklistEntry, Scope
from fairslot.bootstrap import Platform
from fairslot.staff.audit import cli_actor
from fairslot.staff.models import StaffAction
from fairslot.staff.roles import Role

PHONE = "13900139000"


@pytest.fixture
def it(site: TestClient, db: Session, platform: Platform) -> ConsoleSession:
    create_staff(db, username="it_li", roles={Role.IT_ADMIN}, now=platform.clock.now())
    return sign_in(site, "it_li")


def block(
    db: Session, platform: Platform, value: str = PHONE, *, case_ref: str | None = None
) -> BlacklistEntry:
    entry = service.block(
        db,
        scope=Scope.PHONE,
        value=value,
        reason="号贩子团伙使用的手机号",
        actor=cli_actor("it-setup"),
        now=platform.clock.now(),
        protector=platform.protector,
        case_ref=case_ref,
    )
    db.commit()
    return entry


def entry(db: Session, entry_id: int) -> BlacklistEntry:
    db.rollback()
    row = db.get(BlacklistEntry, entry_id)
    assert row is not None
    db.refresh(row)
    db.commit()
    return row


def audited(db: Session, action: str) -> list[StaffAction]:
    db.rollback()
    rows = list(db.scalars(select(StaffAction).where(StaffAction.action == action)))
    db.commit()
    return rows


def test_it_sees_the_entries_in_force_masked_with_reason_who_and_when(
    it: ConsoleSession, db: Session, platform: Platform
) -> None:
    phone = block(db, platform)
    lifted = block(db, platform, "13900139001")
    service.lift_in_person(
        db, entry_id=lifted.id, actor=cli_actor("desk"), checked="ID card", now=platform.clock.now()
    )
    db.commit()

    page = it.get("/console/blacklist")

    assert page.status_code == 200
    assert "139***00" in page.text and PHONE not in page.text
    assert "号贩子团伙使用的手机号" in page.text and "cli:it-setup" in page.text
    assert "2026-11-22 08:00" in page.text and "永久" in page.text and "生效中" in page.text
    assert f'href="/console/blacklist/{phone.id}"' in page.text
    assert f'href="/console/blacklist/{lifted.id}"' not in page.text  # in force only
    everything = it.get("/console/blacklist?state=all")
    assert f'href="/console/blacklist/{lifted.id}"' in everything.text
    assert "已解除" in everything.text
    assert "没有符合条件" in it.get("/console/blacklist?scope=device").text


def test_an_identifier_typed_in_is_found_by_its_hash_and_never_echoed(
    it: ConsoleSession, db: Session, platform: Platform
) -> None:
    found = block(db, platform)
    block(db, platform, "13900139001")

    page = it.post("/console/blacklist/search", {"value": "139 0013 9000", "scope": "phone"})

    assert page.status_code == 200
    assert f'href="/console/blacklist/{found.id}"' in page.text
    assert page.text.count('href="/console/blacklist/') == 1 + page.text.count(
        'href="/console/blacklist/new"'
    )
    assert "139 0013 9000" not in page.text and PHONE not in page.text
    assert page.headers["cache-control"] == "no-store"
    wrong = it.post("/console/blacklist/search", {"value": "abc", "scope": "patient"})
    assert "不是所选范围的有效标识" in wrong.text


def test_it_blocks_an_identifier_through_the_form_and_the_block_is_audited(
    it: ConsoleSession, db: Session, platform: Platform
) -> None:
    response = it.post(
        "/console/blacklist",
        {"scope": "device", "value": "grab-bot-9", "reason": "抢号脚本", "expiry": "30"},
    )

    assert response.status_code == 303
    [row] = audited(db, "blacklist.add")
    assert (
        response.headers["location"] == f"/console/blacklist/{row.target_id}?done=blacklist_added"
    )
    created = entry(db, int(row.target_id))
    assert (created.scope, created.label, created.created_by) == (Scope.DEVICE, "gra***-9", "it_li")
    assert created.expires_at is not None
    assert created.expires_at - created.created_at == dt.timedelta(days=30)
    shown = it.get(response.headers["location"])
    assert "已拉黑" in shown.text and "抢号脚本" in shown.text and "it_li 拉黑" in shown.text
    again = it.post(
        "/console/blacklist", {"scope": "device", "value": "grab-bot-9", "reason": "again"}
    )
    assert again.status_code == 409 and "该标识已在黑名单中。" in again.text
    invalid = it.post("/console/blacklist", {"scope": "phone", "value": "12", "reason": "x"})
    assert invalid.status_code == 422 and "不是所选范围的有效标识" in invalid.text
    assert len(audited(db, "blacklist.add")) == 1


def test_lifting_in_person_records_the_document_and_who_checked_and_shows_in_the_history(
    it: ConsoleSession, db: Session, platform: Platform
) -> None:
    blocked = block(db, platform, case_ref="12")
    page = it.get(f"/console/blacklist/{blocked.id}")
    assert "现场解除" in page.text and 'name="document"' in page.text and "案件 #12" in page.text

    response = it.post(
        f"/console/blacklist/{blocked.id}/lift",
        {
            "document": "resident_id_card",
            "checked_by": "服务台 周敏",
            "checked": "身份证原件与本人相符，手机号为本人使用",
        },
    )

    assert response.status_code == 303
    assert response.headers["location"] == f"/console/blacklist/{blocked.id}?done=blacklist_lifted"
    lifted = entry(db, blocked.id)
    assert (lifted.lifted_by, lifted.lift_note) == (
        "it_li",
        "身份证原件与本人相符，手机号为本人使用",
    )
    [row] = audited(db, "blacklist.lift")
    assert row.actor == "it_li" and row.target_id == str(blocked.id)
    assert row.data["document"] == "resident_id_card" and row.data["checked_by"] == "服务台 周敏"
    history = it.get(response.headers["location"]).text
    assert "已解除：核验记录已写入审计日志。" in history
    assert "it_li 现场核验后解除" in history and "居民身份证" in history
    assert "服务台 周敏" in history and 'name="document"' not in history
    twice = it.post(
        f"/console/blacklist/{blocked.id}/lift",
        {"document": "passport", "checked": "again"},
    )
    assert twice.status_code == 409 and "该记录已解除。" in twice.text


def test_a_lift_without_what_was_checked_is_refused_and_nothing_changes(
    it: ConsoleSession, db: Session, platform: Platform
) -> None:
    blocked = block(db, platform)

    response = it.post(
        f"/console/blacklist/{blocked.id}/lift", {"document": "resident_id_card", "checked": ""}
    )

    assert response.status_code == 422 and "请检查填写的内容" in response.text
    assert entry(db, blocked.id).lifted_at is None


def test_other_roles_see_no_blacklist_and_their_forged_posts_are_refused(
    site: TestClient, db: Session, platform: Platform
) -> None:
    blocked = block(db, platform)
    for name, role in (("wang", Role.REVIEWER), ("zhao", Role.CUSTOMER_SERVICE)):
        create_staff(db, username=name, roles={role}, now=platform.clock.now())
        other = sign_in(site, name)
        assert 'href="/console/blacklist"' not in other.get("/console/").text
        for url in ("/console/blacklist", f"/console/blacklist/{blocked.id}"):
            page = other.get(url)
            assert page.status_code == 403 and "role_required" in page.text
        forged = other.post(
            f"/console/blacklist/{blocked.id}/lift",
            {"document": "resident_id_card", "checked": "trust me"},
        )
        assert forged.status_code == 403 and "role_required" in forged.text
        added = other.post("/console/blacklist", {"scope": "phone", "value": "13900139002"})
        assert added.status_code == 403
        site.cookies.clear()
    assert entry(db, blocked.id).lifted_at is None
    assert audited(db, "blacklist.lift") == []


def test_a_post_without_the_csrf_token_is_refused(
    it: ConsoleSession, db: Session, platform: Platform
) -> None:
    blocked = block(db, platform)

    response = it.client.post(
        f"/console/blacklist/{blocked.id}/lift",
        data={"document": "resident_id_card", "checked": "ID card"},
        follow_redirects=False,
    )
    search = it.client.post("/console/blacklist/search", data={"value": PHONE})

    assert response.status_code == 403 and "csrf_failed" in response.text
    assert search.status_code == 403 and "csrf_failed" in search.text
    assert entry(db, blocked.id).lifted_at is None
