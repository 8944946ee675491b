"""The console's quality metrics over HTTP, on the metrics domain's two hand-built days
(``factories/metrics_data.py``): who may read them, the figures a reviewer reads overall
and per hospital and channel, the trend picture, the filters and their refusals."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from factories.console import ConsoleSession, sign_in
from factories.console import site as site  # the fixture
from factories.metrics_data import DAY1, DAY2, MetricsPeriod, hand_built_period
from factories.staff import create_staff
from fairslot.bootstrap import Platform
from fairslot.staff.models import StaffAction
from fairslot.staff.roles import Role

PERIOD = f"date_from={DAY1}&date_to={DAY2}"


@pytest.fixture
def days(db: Session, platform: Platform) -> MetricsPeriod:
    return hand_built_period(db, platform)


def _staff(site: TestClient, db: Session, platform: Platform, role: Role) -> ConsoleSession:
    create_staff(db, username=f"{role.value}_m", roles={role}, now=platform.clock.now())
    return sign_in(site, f"{role.value}_m")


def _reads(db: Session) -> list[tuple[str, dict[str, object]]]:
    db.rollback()  # a fresh snapshot
    rows = db.scalars(
        select(StaffAction).where(StaffAction.action == "metrics.read").order_by(StaffAction.id)
    )
    return [(row.target_id, dict(row.data)) for row in rows]


def test_customer_service_may_not_read_the_metrics_or_the_trend(
    site: TestClient, db: Session, platform: Platform, days: MetricsPeriod
) -> None:
    desk = _staff(site, db, platform, Role.CUSTOMER_SERVICE)
    for url in (f"/console/metrics?{PERIOD}", f"/console/metrics/trend.svg?end={DAY2}"):
        response = desk.get(url)
        assert response.status_code == 403, url
        assert "您的角色没有此项权限" in response.text
    assert _reads(db) == []


def test_a_reviewer_reads_the_figures_overall_per_hospital_and_per_channel(
    site: TestClient, db: Session, platform: Platform, days: MetricsPeriod
) -> None:
    reviewer = _staff(site, db, platform, Role.REVIEWER)
    response = reviewer.get(f"/console/metrics?{PERIOD}")
    assert response.status_code == 200
    html = response.text
    assert f"统计区间 {DAY1} 至 {DAY2}，共 2 天" in html
    # Five of six attempts booked; the median wait 90 s; Bob missed, Alice came; Eve's
    # device blacklisted after she took one of the two scarce slots.
    assert "83.3%" in html and "5 / 6 次挂号尝试" in html
    assert "1 分 30 秒" in html
    assert html.count("50.0%") >= 2
    assert 'class="metric-bad"' in html
    for row in (days.hospital, days.h2):
        assert f'<th scope="row">{row.name} <span class="muted code">{row.code}</span></th>' in html
    for row in (days.channel, days.c2):
        assert f"{row.name} <span" in html
    # The trend picture follows the page, for the same scope and last day.
    assert (
        f'src="/console/metrics/trend.svg?end={DAY2}&amp;hospital_id=&amp;channel_id=&amp;lang=zh-CN"'
        in html
    )
    assert 'loading="lazy"' in html and "加载中…" in html
    assert _reads(db) == [
        (f"{DAY1}..{DAY2}", {"view": "quality", "hospital_id": None, "channel_id": None})
    ]


def test_the_trend_is_an_svg_picture_read_under_audit(
    site: TestClient, db: Session, platform: Platform, days: MetricsPeriod
) -> None:
    auditor = _staff(site, db, platform, Role.AUDITOR)
    url = f"/console/metrics/trend.svg?end={DAY2}&hospital_id={days.hospital.id}&channel_id="
    response = auditor.get(url)
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/svg+xml"
    assert response.headers["content-security-policy"].startswith("default-src 'none'")
    assert ET.fromstring(response.content).tag == "{http://www.w3.org/2000/svg}svg"
    (read,) = _reads(db)
    assert read[1] == {"view": "trend", "hospital_id": days.hospital.id, "channel_id": None}


def test_narrowing_to_a_hospital_keeps_the_choice_in_the_form(
    site: TestClient, db: Session, platform: Platform, days: MetricsPeriod
) -> None:
    it = _staff(site, db, platform, Role.IT_ADMIN)
    response = it.get(f"/console/metrics?{PERIOD}&hospital_id={days.h2.id}&channel_id=")
    assert response.status_code == 200
    assert f'<option value="{days.h2.id}" selected>{days.h2.name}</option>' in response.text
    assert "100.0%" in response.text  # Dan's one attempt at H2 booked
    assert days.hospital.name not in response.text.split("by-hospitals")[1].split("</section>")[0]


def test_empty_fields_mean_the_default_period_and_every_scope(
    site: TestClient, db: Session, platform: Platform, days: MetricsPeriod
) -> None:
    reviewer = _staff(site, db, platform, Role.REVIEWER)
    response = reviewer.get("/console/metrics?date_from=&date_to=&hospital_id=&channel_id=")
    assert response.status_code == 200
    assert "统计区间 2026-12-11 至 2027-01-09，共 30 天" in response.text  # yesterday's 30 days


@pytest.mark.parametrize(
    ("query", "status", "message"),
    [
        (f"date_from={DAY2}&date_to={DAY1}", 422, "结束日期不能早于开始日期。"),
        ("date_from=2025-01-01&date_to=2026-12-31", 422, "统计区间最多 366 天。"),
        ("hospital_id=abc", 422, "请检查填写的内容：hospital_id。"),
        ("date_to=2026-02-30", 422, "请检查填写的内容：date_to。"),
        ("hospital_id=999999", 404, "没有该医院。"),
    ],
)
def test_a_period_or_scope_that_cannot_be_read_says_why(
    site: TestClient,
    db: Session,
    platform: Platform,
    days: MetricsPeriod,
    query: str,
    status: int,
    message: str,
) -> None:
    reviewer = _staff(site, db, platform, Role.REVIEWER)
    response = reviewer.get(f"/console/metrics?{query}")
    assert response.status_code == status
    assert message in response.text
    assert _reads(db) == []
