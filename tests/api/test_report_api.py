"""The daily risk report on the staff API: JSON, CSV and xlsx, for reviewers, auditors and
IT only, each reading audited. Over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import select

from factories.report_data import DAY, SHEETS, ReportDay, hand_built_day
from factories.staff import signed_in
from fairslot.risk.report import RULES
from fairslot.staff.models import StaffAction
from fairslot.staff.roles import Role

URL = "/staff/v1/reports/daily"


@pytest.fixture
def day(db, platform) -> ReportDay:
    return hand_built_day(db, platform)


def _staff(db, platform, client: TestClient, role: Role) -> dict[str, str]:
    username = f"{role.value.replace('_', '')}1"
    return signed_in(client, db, username=username, roles={role}, now=platform.clock.now())


def _reads(db) -> list[tuple[str, str, str, dict[str, object]]]:
    db.commit()  # a fresh snapshot
    rows = db.scalars(
        select(StaffAction).where(StaffAction.action == "report.read").order_by(StaffAction.id)
    )
    return [(r.actor, r.target_kind, r.target_id, r.data) for r in rows]


@pytest.mark.parametrize("role", [Role.REVIEWER, Role.AUDITOR, Role.IT_ADMIN])
def test_reviewers_auditors_and_it_read_the_report_and_each_reading_is_audited(
    db, platform, client: TestClient, day: ReportDay, role: Role
) -> None:
    headers = _staff(db, platform, client, role)
    response = client.get(URL, params={"date": DAY.isoformat()}, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["date"] == "2026-11-21"
    assert body["summary"] == {
        "alerts": 5,
        "cases_opened": 3,
        "cases_confirmed": 1,
        "cases_dismissed": 1,
        "cases_still_open": 7,
        "blacklist_added": 2,
        "blacklist_lifted": 1,
        "calls_done": 5,
    }
    assert [r["rule"] for r in body["rule_counts"]] == list(RULES)
    assert _reads(db) == [
        (
            f"{role.value.replace('_', '')}1",
            "risk_report",
            "2026-11-21",
            {"format": "json", "alerts": 5},
        )
    ]


@pytest.mark.parametrize("role", [Role.CUSTOMER_SERVICE, Role.SCHEDULER])
def test_other_staff_are_refused_and_nothing_is_audited(
    db, platform, client: TestClient, day: ReportDay, role: Role
) -> None:
    headers = _staff(db, platform, client, role)
    for path in (URL, f"{URL}.csv", f"{URL}.xlsx"):
        response = client.get(path, params={"date": DAY.isoformat()}, headers=headers)
        assert response.status_code == 403, path
        assert response.json()["error"] == "role_required"
    assert _reads(db) == []


def test_without_a_valid_token_the_report_is_refused(client: TestClient, day: ReportDay) -> None:
    for path in (URL, f"{URL}.csv", f"{URL}.xlsx"):
        missing = client.get(path, params={"date": DAY.isoformat()})
        assert (missing.status_code, missing.json()["error"]) == (401, "staff_token_missing")
        forged = client.get(
            path, params={"date": DAY.isoformat()}, headers={"Authorization": "Bearer forged"}
        )
        assert (forged.status_code, forged.json()["error"]) == (401, "staff_token_invalid")


def test_a_date_without_a_run_is_404_and_says_which_command_to_run(
    db, platform, client: TestClient, day: ReportDay
) -> None:
    headers = _staff(db, platform, client, Role.REVIEWER)
    for path in (URL, f"{URL}.csv", f"{URL}.xlsx"):
        response = client.get(path, params={"date": "2026-11-22"}, headers=headers)
        assert response.status_code == 404, path
        body = response.json()
        assert body["error"] == "report_not_found"
        assert "fairslot risk run --date 2026-11-22" in body["detail"]
        assert body["detail_zh"]
    assert _reads(db) == []


@pytest.mark.parametrize("bad", ["2026-13-01", "21/11/2026", "yesterday", ""])
def test_a_malformed_or_missing_date_is_422(
    db, platform, client: TestClient, day: ReportDay, bad: str
) -> None:
    headers = _staff(db, platform, client, Role.AUDITOR)
    response = client.get(URL, params={"date": bad} if bad else {}, headers=headers)
    assert response.status_code == 422
    assert response.json()["error"] == "invalid_request"


def test_the_csv_download_names_its_file_and_masks_personal_data(
    db, platform, client: TestClient, day: ReportDay
) -> None:
    headers = _staff(db, platform, client, Role.REVIEWER)
    response = client.get(f"{URL}.csv", params={"date": DAY.isoformat()}, headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == (
        'attachment; filename="fairslot-risk-report-2026-11-21.csv"'
    )
    assert response.content.startswith(b"\xef\xbb\xbf")  # a spreadsheet reads it as UTF-8
    text = response.content.decode("utf-8-sig")
    assert all(secret not in text for secret in day.secrets)
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["Summary"]
    assert ["cases confirmed", "1"] in rows
    assert _reads(db)[0][3] == {"format": "csv", "alerts": 5}


def test_the_xlsx_download_opens_with_one_sheet_per_section_and_masks_personal_data(
    db, platform, client: TestClient, day: ReportDay
) -> None:
    headers = _staff(db, platform, client, Role.IT_ADMIN)
    response = client.get(f"{URL}.xlsx", params={"date": DAY.isoformat()}, headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert response.headers["content-disposition"] == (
        'attachment; filename="fairslot-risk-report-2026-11-21.xlsx"'
    )
    workbook = load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames == SHEETS
    cells = [str(c) for sheet in workbook for row in sheet.iter_rows(values_only=True) for c in row]
    assert all(secret not in cell for cell in cells for secret in day.secrets)
    assert len(list(workbook["Alerts"].iter_rows(min_row=2))) == 5
    assert _reads(db)[0][3] == {"format": "xlsx", "alerts": 5}
