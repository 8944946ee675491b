"""The quality metrics on the staff API, over the two hand-built days of
``factories/metrics_data.py``: for reviewers, auditors and IT only, each reading audited.
Over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from factories.metrics_data import DAY1, DAY2, MetricsPeriod, hand_built_period
from factories.staff import signed_in
from fairslot.staff.models import StaffAction
from fairslot.staff.roles import Role

URL = "/staff/v1/metrics"
PERIOD = {"date_from": DAY1.isoformat(), "date_to": DAY2.isoformat()}


@pytest.fixture
def days(db, platform) -> MetricsPeriod:
    return hand_built_period(db, platform)


def _staff(db, platform, client: TestClient, role: Role) -> dict[str, str]:
    username = f"{role.value.replace('_', '')}1"
    return signed_in(client, db, username=username, roles={role}, now=platform.clock.now())


def _reads(db) -> list[tuple[str, str, str, dict[str, object]]]:
    db.commit()  # a fresh snapshot
    rows = db.scalars(
        select(StaffAction).where(StaffAction.action == "metrics.read").order_by(StaffAction.id)
    )
    return [(r.actor, r.target_kind, r.target_id, r.data) for r in rows]


@pytest.mark.parametrize("role", [Role.REVIEWER, Role.AUDITOR, Role.IT_ADMIN])
def test_reviewers_auditors_and_it_read_the_figures_and_each_reading_is_audited(
    db, platform, client: TestClient, days: MetricsPeriod, role: Role
) -> None:
    headers = _staff(db, platform, client, role)
    response = client.get(URL, params=PERIOD, headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["date_from"], body["date_to"], body["timezone"]) == (
        "2026-11-22",
        "2026-11-23",
        "Asia/Shanghai",
    )
    overall = body["overall"]
    assert (overall["booked_attempts"], overall["attempts"]) == (5, 6)
    assert overall["time_to_book_median_s"] == 90.0
    assert overall["no_show_rate"] == 0.5
    assert overall["blacklisted_share"] == 0.5
    assert {row["code"] for row in body["hospitals"]} == {days.hospital.code, days.h2.code}
    assert {row["code"] for row in body["channels"]} == {days.channel.code, days.c2.code}
    who = f"{role.value.replace('_', '')}1"
    assert _reads(db) == [
        (
            who,
            "quality_metrics",
            "2026-11-22..2026-11-23",
            {"view": "quality", "hospital_id": None, "channel_id": None},
        )
    ]


def test_a_customer_service_login_is_refused_and_nothing_is_audited(
    db, platform, client: TestClient, days: MetricsPeriod
) -> None:
    headers = _staff(db, platform, client, Role.CUSTOMER_SERVICE)
    for path in (URL, f"{URL}/trend"):
        response = client.get(path, params=PERIOD if path == URL else {}, headers=headers)
        assert response.status_code == 403, path
        assert response.json()["error"] == "role_required"
    assert _reads(db) == []


def test_without_a_token_the_figures_are_not_shown(client: TestClient) -> None:
    response = client.get(URL)
    assert response.status_code == 401


def test_the_trend_narrowed_to_one_channel_has_a_row_per_day(
    db, platform, client: TestClient, days: MetricsPeriod
) -> None:
    headers = _staff(db, platform, client, Role.REVIEWER)
    params = {"end": DAY2.isoformat(), "days": 2, "channel_id": days.c2.id}
    response = client.get(f"{URL}/trend", params=params, headers=headers)
    assert response.status_code == 200, response.text
    rows = response.json()
    assert [r["day"] for r in rows] == ["2026-11-22", "2026-11-23"]
    assert [(r["booked_attempts"], r["attempts"], r["dau"]) for r in rows] == [(1, 1, 1), (0, 0, 0)]
    assert _reads(db)[0][1:] == (
        "quality_metrics",
        "2026-11-22..2026-11-23",
        {"view": "trend", "hospital_id": None, "channel_id": days.c2.id},
    )


def test_the_period_defaults_to_the_thirty_days_ending_yesterday(
    db, platform, client: TestClient, days: MetricsPeriod
) -> None:
    # The clock reads 2027-01-10 (factories/metrics_data.py READ_AT), 08:00 in Shanghai.
    headers = _staff(db, platform, client, Role.REVIEWER)
    body = client.get(URL, headers=headers).json()
    assert (body["date_from"], body["date_to"]) == ("2026-12-11", "2027-01-09")
    assert body["overall"]["attempts"] == 0 and body["overall"]["success_rate"] is None


def test_an_unknown_hospital_or_an_inverted_period_is_refused(
    db, platform, client: TestClient, days: MetricsPeriod
) -> None:
    headers = _staff(db, platform, client, Role.REVIEWER)
    missing = client.get(URL, params={**PERIOD, "hospital_id": 999_999}, headers=headers)
    assert (missing.status_code, missing.json()["error"]) == (404, "hospital_not_found")
    inverted = {"date_from": DAY2.isoformat(), "date_to": DAY1.isoformat()}
    refused = client.get(URL, params=inverted, headers=headers)
    assert (refused.status_code, refused.json()["error"]) == (422, "metrics_period_invalid")
    too_long = client.get(f"{URL}/trend", params={"days": 400}, headers=headers)
    assert too_long.status_code == 422
