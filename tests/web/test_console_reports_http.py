"""The console's daily report over HTTP: who may read it, what a reviewer reads on it, the
files it offers (the staff API's own), its pictures, and a date without a batch."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook  # type: ignore[import-untyped]
from sqlalchemy import select
from sqlalchemy.orm import Session

from factories.console import ConsoleSession, sign_in
from factories.console import site as site  # the fixture
from factories.report_data import DAY, QUIET_DAY, ReportDay, hand_built_day, local
from factories.staff import create_staff, login
from fairslot.bootstrap import Platform
from fairslot.staff.models import StaffAction
from fairslot.staff.roles import Role

PLOTS = ("release", "day", "refusals", "scarce")
SVG = "{http://www.w3.org/2000/svg}svg"


@pytest.fixture
def day(db: Session, platform: Platform) -> ReportDay:
    return hand_built_day(db, platform)


def _staff(site: TestClient, db: Session, platform: Platform, role: Role) -> ConsoleSession:
    create_staff(db, username=f"{role.value}_x", roles={role}, now=platform.clock.now())
    return sign_in(site, f"{role.value}_x")


def test_customer_service_may_not_read_the_report_its_files_or_its_pictures(
    site: TestClient, db: Session, platform: Platform, day: ReportDay
) -> None:
    desk = _staff(site, db, platform, Role.CUSTOMER_SERVICE)
    for url in (
        "/console/reports",
        f"/console/reports?date={DAY}",
        f"/console/reports/daily.csv?date={DAY}",
        f"/console/reports/daily.xlsx?date={DAY}",
        *(f"/console/reports/plots/{name}.svg?date={DAY}" for name in PLOTS),
    ):
        response = desk.get(url)
        assert response.status_code == 403, url
        assert "您的角色没有此项权限" in response.text
    assert "risk_report" not in {a.target_kind for a in db.scalars(select(StaffAction))}


def test_a_reviewer_reads_yesterdays_rules_with_figures_thresholds_and_cases(
    site: TestClient, db: Session, platform: Platform, day: ReportDay
) -> None:
    reviewer = _staff(site, db, platform, Role.REVIEWER)
    response = reviewer.get("/console/reports")  # yesterday: the clock stands on 11-22
    assert response.status_code == 200
    html = response.text
    assert f"每日风险报告 · {DAY}" in html
    assert response.headers["cache-control"] == "no-store"
    # The paper's four rules, each with its threshold from the settings.
    assert "同一支付账户 7 天内在同一科室支付 ≥ 5 笔预约" in html
    assert "同一患者 7 天内在 ≥ 5 个不同科室预约" in html
    assert "7 天内 ≥ 2 次预约限另一性别的科室" in html
    assert "7 天内取消 ≥ 5 次且未在该科室就诊" in html
    # The payment account's hit: 7 paid bookings against the threshold of 5, and its case.
    assert 'id="rule-same_payment_same_department"' in html
    assert "7 / 5" in html
    assert f'href="/console/cases/{day.cases["A"].id}"' in html
    # The platform's rules: the ring and the real-time review, with their cases.
    assert "团伙" in html and f'href="/console/cases/{day.cases["R"].id}"' in html
    assert f'href="/console/cases/{day.cases["E"].id}"' in html
    # What the offices did: the phone and payment account blocked, one lifted in person.
    assert "黑名单变更" in html and "解除" in html
    for secret in day.secrets:
        assert secret not in html
    # The pictures load on their own, after the page.
    for name in PLOTS:
        assert f'src="/console/reports/plots/{name}.svg?date={DAY}&amp;lang=zh-CN"' in html
    assert html.count('loading="lazy"') == len(PLOTS)
    assert "加载中…" in html
    # The downloads.
    assert f'href="/console/reports/daily.csv?date={DAY}"' in html
    assert f'href="/console/reports/daily.xlsx?date={DAY}"' in html
    reading = db.scalars(select(StaffAction).where(StaffAction.action == "report.read")).one()
    assert (reading.target_id, reading.data["format"]) == (DAY.isoformat(), "html")


def test_the_downloads_are_the_staff_apis_files(
    site: TestClient, db: Session, platform: Platform, day: ReportDay
) -> None:
    reviewer = _staff(site, db, platform, Role.REVIEWER)
    api = {"Authorization": login(site, f"{Role.REVIEWER.value}_x")["Authorization"]}

    csv = reviewer.get(f"/console/reports/daily.csv?date={DAY}")
    assert csv.status_code == 200
    assert csv.headers["content-type"] == "text/csv; charset=utf-8"
    assert csv.headers["content-disposition"] == (
        f'attachment; filename="fairslot-risk-report-{DAY}.csv"'
    )
    assert csv.headers["cache-control"] == "no-store"
    from_api = site.get(f"/staff/v1/reports/daily.csv?date={DAY}", headers=api)
    assert csv.content == from_api.content
    assert csv.content.startswith("\ufeff".encode())

    xlsx = reviewer.get(f"/console/reports/daily.xlsx?date={DAY}")
    assert xlsx.status_code == 200
    assert xlsx.headers["content-type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    from_api = site.get(f"/staff/v1/reports/daily.xlsx?date={DAY}", headers=api)
    assert _sheets(xlsx.content) == _sheets(from_api.content)

    formats = [
        a.data["format"]
        for a in db.scalars(
            select(StaffAction).where(StaffAction.action == "report.read").order_by(StaffAction.id)
        )
    ]
    assert formats == ["csv", "csv", "xlsx", "xlsx"]  # the console's and the API's


def _sheets(content: bytes) -> dict[str, list[tuple[object, ...]]]:
    book = load_workbook(io.BytesIO(content), read_only=True)
    return {ws.title: list(ws.iter_rows(values_only=True)) for ws in book.worksheets}


@pytest.mark.parametrize("role", [Role.REVIEWER, Role.AUDITOR, Role.IT_ADMIN])
def test_every_picture_is_an_svg_drawing_for_each_reading_role(
    site: TestClient, db: Session, platform: Platform, day: ReportDay, role: Role
) -> None:
    reader = _staff(site, db, platform, role)
    for name in PLOTS:
        response = reader.get(f"/console/reports/plots/{name}.svg?date={DAY}")
        assert response.status_code == 200, name
        assert response.headers["content-type"] == "image/svg+xml"
        assert "script-src" not in response.headers["content-security-policy"]
        assert response.headers["content-security-policy"].startswith("default-src 'none'")
        root = ET.fromstring(response.content)
        assert root.tag == SVG, name
        assert b"<script" not in response.content


def test_a_picture_needs_a_date(
    site: TestClient, db: Session, platform: Platform, day: ReportDay
) -> None:
    reviewer = _staff(site, db, platform, Role.REVIEWER)
    response = reviewer.get("/console/reports/plots/release.svg")
    assert response.status_code == 422
    assert "date" in response.text


def test_a_date_without_a_batch_says_how_to_get_one(
    site: TestClient, db: Session, platform: Platform, day: ReportDay
) -> None:
    auditor = _staff(site, db, platform, Role.AUDITOR)
    missing = local(DAY, "00:00", plus_days=-30).date()
    response = auditor.get(f"/console/reports?date={missing}")
    assert response.status_code == 200
    assert f"{missing} 还没有风险筛查结果" in response.text
    assert f"fairslot risk run --date {missing}" in response.text
    assert "daily.csv" not in response.text  # nothing to download
    assert "plots/" not in response.text
    csv = auditor.get(f"/console/reports/daily.csv?date={missing}")
    assert csv.status_code == 404
    assert "尚未运行风险筛查" in csv.text


def test_a_quiet_day_lists_every_rule_at_zero(
    site: TestClient, db: Session, platform: Platform, day: ReportDay
) -> None:
    reviewer = _staff(site, db, platform, Role.REVIEWER)
    response = reviewer.get(f"/console/reports?date={QUIET_DAY}")
    assert response.status_code == 200
    assert "当天没有任何规则命中。" in response.text
    assert response.text.count('class="hit"') == 0


def test_the_report_reads_in_english_too(
    site: TestClient, db: Session, platform: Platform, day: ReportDay
) -> None:
    reviewer = _staff(site, db, platform, Role.REVIEWER)
    response = reviewer.get(f"/console/reports?date={DAY}&lang=en")
    assert "Daily risk report · 2026-11-21" in response.text
    assert "one payment account paid for ≥ 5 bookings in one department within 7 days" in (
        response.text
    )
    svg = reviewer.get(f"/console/reports/plots/scarce.svg?date={DAY}&lang=en")
    assert svg.status_code == 200


def test_a_mistyped_date_is_refused_with_a_page(
    site: TestClient, db: Session, platform: Platform, day: ReportDay
) -> None:
    reviewer = _staff(site, db, platform, Role.REVIEWER)
    response = reviewer.get("/console/reports?date=2026-13-01")
    assert response.status_code == 422
    assert "请检查填写的内容：date" in response.text
