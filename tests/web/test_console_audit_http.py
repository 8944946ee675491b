"""The audit log page over HTTP on SQLite and PostgreSQL: an auditor finds staff actions by
actor, action family, target, dates and words of the reason, reads each row's data, and
pages older and newer; other roles see no page."""

from __future__ import annotations

import re
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from factories.console import ConsoleSession, sign_in
from factories.staff import create_staff
from fairslot.bootstrap import Platform
from fairslot.clock import ManualClock
from fairslot.staff import audit
from fairslot.staff.audit import StaffActor
from fairslot.staff.roles import Role

ROW = re.compile(r'<tr id="action-(\d+)">')


def auditor(site: TestClient, db: Session, platform: Platform) -> ConsoleSession:
    create_staff(db, username="qian", roles={Role.AUDITOR}, now=platform.clock.now())
    return sign_in(site, "qian")


def rows(html: str) -> list[int]:
    return [int(n) for n in ROW.findall(html)]


def test_an_auditor_reads_the_newest_actions_with_their_data_laid_out(
    site: TestClient, db: Session, platform: Platform
) -> None:
    create_staff(db, username="zhou", roles={Role.SCHEDULER}, now=platform.clock.now())
    audit.record(
        db,
        actor=StaffActor(username="it_li"),
        action="staff.roles",
        target_kind="staff",
        target_id="9",
        now=platform.clock.now(),
        reason="兼任审计",
        data={"before": "scheduler", "after": "auditor,scheduler"},
    )
    db.commit()
    session = auditor(site, db, platform)
    page = session.get("/console/audit")
    assert page.status_code == 200
    assert "修改角色" in page.text and "staff.roles" in page.text
    assert "兼任审计" in page.text
    assert "<dt>before</dt><dd>scheduler</dd>" in page.text
    assert "<dt>after</dt><dd>auditor,scheduler</dd>" in page.text
    assert "登录" in page.text  # the auditor's own sign-in is in the log too


def test_filters_find_actions_by_actor_family_target_dates_and_reason_words(
    site: TestClient, db: Session, platform: Platform, clock: ManualClock
) -> None:
    session = auditor(site, db, platform)
    at = clock.now() - timedelta(days=3)  # before the auditor's own sign-in
    ids = {}
    for name, action, target, reason in (
        ("wang", "case.confirm", "42", "Ring of FIVE phones"),
        ("wang", "case.dismiss", "43", "genuine patient"),
        ("it_li", "blacklist.add", "5", "from case 42"),
    ):
        at += timedelta(minutes=5)
        ids[action] = audit.record(
            db,
            actor=StaffActor(username=name),
            action=action,
            target_kind="case" if action.startswith("case") else "blacklist",
            target_id=target,
            now=at,
            reason=reason,
        ).id
    db.commit()

    def found(query: str) -> list[int]:
        response = session.get("/console/audit?" + query)
        assert response.status_code == 200
        return rows(response.text)

    assert found("actor=wang") == [ids["case.dismiss"], ids["case.confirm"]]
    assert found("action=case.") == [ids["case.dismiss"], ids["case.confirm"]]
    assert found("action=blacklist.add") == [ids["blacklist.add"]]
    assert found("kind=case&target=42") == [ids["case.confirm"]]
    assert found("q=ring+of+five") == [ids["case.confirm"]]
    day = (at + timedelta(hours=8)).date().isoformat()  # Shanghai's date
    assert found(f"from={day}&to={day}") == [
        ids["blacklist.add"],
        ids["case.dismiss"],
        ids["case.confirm"],
    ]
    assert found("actor=nobody") == []
    assert "没有符合条件的记录" in session.get("/console/audit?actor=nobody").text


def test_the_log_pages_older_and_back_newer(
    site: TestClient, db: Session, platform: Platform, clock: ManualClock
) -> None:
    session = auditor(site, db, platform)
    for n in range(60):
        clock.advance(timedelta(seconds=10))
        audit.record(
            db,
            actor=StaffActor(username="wang"),
            action="case.view",
            target_kind="case",
            target_id=str(n),
            now=clock.now(),
        )
    db.commit()
    first = session.get("/console/audit?action=case.view")
    newest = rows(first.text)
    assert len(newest) == 50
    older_link = re.search(r'<a href="([^"]+)" rel="next">', first.text)
    assert older_link is not None and 'rel="prev"' not in first.text
    second = session.get(older_link.group(1).replace("&amp;", "&"))
    older = rows(second.text)
    assert len(older) == 10 and max(older) < min(newest)
    assert "已是最早" in second.text
    newer_link = re.search(r'<a href="([^"]+)" rel="prev">', second.text)
    assert newer_link is not None and "action=case.view" in newer_link.group(1)
    back = session.get(newer_link.group(1).replace("&amp;", "&"))
    assert rows(back.text) == newest


def test_only_an_auditor_reads_the_log(site: TestClient, db: Session, platform: Platform) -> None:
    create_staff(db, username="it_li", roles={Role.IT_ADMIN}, now=platform.clock.now())
    session = sign_in(site, "it_li")
    assert 'href="/console/audit"' not in session.get("/console/").text
    refused = session.get("/console/audit")
    assert refused.status_code == 403 and "role_required" in refused.text
