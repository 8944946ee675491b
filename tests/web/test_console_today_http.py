"""The Today page over HTTP on both backends: what each role reads of the hand-checked
release day (``factories/release_day.py``), the links a role may follow, and that
reading it changes nothing."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from factories.console import page_text as text
from factories.console import sign_in
from factories.release_day import ReleaseDay, release_day
from factories.staff import create_staff
from factories.world import World
from fairslot.staff.models import StaffAction
from fairslot.staff.roles import Role


@pytest.fixture
def day(world: World) -> ReleaseDay:
    return release_day(world)


def signed_in(site: TestClient, day: ReleaseDay, role: Role) -> str:
    """Sign in a new member of staff with ``role``; the Today page's text, tags removed."""
    world = day.world
    create_staff(world.db, username=role.value, roles={role}, now=world.now())
    sign_in(site, role.value)
    response = site.get("/console/")
    assert response.status_code == 200
    return response.text


def test_a_scheduler_reads_releases_draws_fill_queues_and_the_batch(
    site: TestClient, day: ReleaseDay
) -> None:
    html = signed_in(site, day, Role.SCHEDULER)
    page = text(html)
    assert "截至 2026-11-22 08:00（Asia/Shanghai）" in page
    assert "2026-11-22 00:30 放出 2026-11-29 的 3 个出诊时段" in page
    assert "2026-11-23 00:30 放出 D+7（2026-11-30）的号源" in page
    assert "医院已推送 2 个出诊时段" in page
    # The late hospital: nothing yet, its release is still ahead today.
    assert "2026-11-22 09:00 放出 D+7（2026-11-29）的号源" in page
    assert page.count("今日没有放号。") == 1
    # Today's draw, run and verified, and tomorrow's, pending — each linking to its page.
    assert f'href="/console/draws/{day.draw.id}"' in html
    assert f'href="/console/draws/{day.pending_draw.id}"' in html
    assert "已开奖" in page and "已验证 ✓" in page and "等待开奖" in page
    assert f'href="/console/draws?department={day.draw_department.id}"' in html
    assert "3 / 3" in page and "1 / 1" in page
    assert "待审核 2 · 审核中 1 · 等待回访 1" in page
    assert "待领取 2 · 进行中 1" in page
    assert "昨日批处理（2026-11-21）" in page
    assert "告警 3 条 · 新开案件 1 个 · 团伙 1 个" in page
    # A scheduler may not open the queues or the report: no link to them.
    for href in ('href="/console/cases"', 'href="/console/calls"', 'href="/console/reports'):
        assert href not in html


def test_a_reviewer_is_linked_to_the_queue_and_yesterdays_report(
    site: TestClient, day: ReleaseDay
) -> None:
    html = signed_in(site, day, Role.REVIEWER)
    assert 'href="/console/cases"' in html
    assert 'href="/console/reports?date=2026-11-21"' in html
    assert 'href="/console/calls"' not in html


def test_customer_service_is_linked_to_the_call_desk_only(
    site: TestClient, day: ReleaseDay
) -> None:
    html = signed_in(site, day, Role.CUSTOMER_SERVICE)
    assert 'href="/console/calls"' in html
    assert 'href="/console/cases"' not in html
    assert 'href="/console/reports' not in html


@pytest.mark.parametrize("role", [Role.IT_ADMIN, Role.AUDITOR])
def test_every_role_sees_today(site: TestClient, day: ReleaseDay, role: Role) -> None:
    page = text(signed_in(site, day, role))
    assert "今日概览" in page and "2026-11-29 的 3 个出诊时段" in page


def test_the_page_reads_in_english_when_asked(site: TestClient, day: ReleaseDay) -> None:
    signed_in(site, day, Role.SCHEDULER)
    page = text(site.get("/console/?lang=en").text)
    assert "2026-11-22 00:30: sessions of 2026-11-29 released: 3" in page
    assert "2026-11-23 00:30 opens D+7 (2026-11-30)" in page
    assert "Yesterday's batch (2026-11-21)" in page


def test_reading_today_writes_nothing(site: TestClient, day: ReleaseDay) -> None:
    signed_in(site, day, Role.AUDITOR)
    db = day.world.db
    before = db.scalar(select(func.count()).select_from(StaffAction))
    db.commit()
    assert site.get("/console/").status_code == 200
    assert db.scalar(select(func.count()).select_from(StaffAction)) == before


def test_without_a_session_today_sends_to_sign_in(site: TestClient, day: ReleaseDay) -> None:
    response = site.get("/console/", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/console/login?next=/console/"
