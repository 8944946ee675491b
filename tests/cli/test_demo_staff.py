"""``fairslot demo`` seeds one staff account per role and prints development passwords that
log in, with staff curl examples; it refuses production settings before touching anything."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from fairslot.api.app import create_app
from fairslot.bootstrap import bootstrap
from fairslot.cli import common
from fairslot.cli.main import app
from fairslot.config import DEV_DATA_KEY, load_settings
from fairslot.staff.models import StaffAction
from fairslot.staff.roles import Role

STAFF_ROW = re.compile(r"│ (\w+)\s+│ (\w+)\s+│[^│]+│ (demo-[A-Za-z0-9_-]+)\s+│")


@pytest.fixture(autouse=True)
def wide_consoles(monkeypatch: pytest.MonkeyPatch) -> None:
    for shared in (common.console, common.err_console):
        monkeypatch.setattr(shared, "_width", 250)


def test_demo_prints_a_working_password_for_one_staff_account_per_role(tmp_path: Path) -> None:
    path = tmp_path / "demo.db"
    url = f"sqlite:///{path}"
    result = CliRunner().invoke(
        app, ["demo", "--no-serve", "--db", str(path)], env={"FAIRSLOT_DATABASE_URL": url}
    )
    assert result.exit_code == 0, (result.output, result.exception)
    printed = {user: (role, password) for user, role, password in STAFF_ROW.findall(result.output)}
    assert sorted(role for role, _ in printed.values()) == sorted(r.value for r in Role)
    for shown in ("/staff/v1/login", "/staff/v1/cases", "/staff/v1/reports/daily?date="):
        assert shown in result.output

    platform = bootstrap(load_settings(database_url=url))
    try:
        with TestClient(create_app(platform)) as client:
            for username, (role, password) in printed.items():
                login = client.post(
                    "/staff/v1/login", json={"username": username, "password": password}
                )
                assert login.status_code == 200, (username, login.text)
                assert login.json()["roles"] == [role]
            # The report example answers: the demo ran yesterday's batch over its scalper.
            token = client.post(
                "/staff/v1/login",
                json={"username": "reviewer", "password": printed["reviewer"][1]},
            ).json()["token"]
            day = re.search(r"/staff/v1/reports/daily\?date=([0-9-]{10})", result.output)
            assert day is not None
            report = client.get(
                f"/staff/v1/reports/daily?date={day.group(1)}",
                headers={"Authorization": f"Bearer {token}"},
            )
            assert report.status_code == 200, report.text
            counts = {r["rule"]: r["alerts"] for r in report.json()["rule_counts"]}
            assert counts["same_payment_same_department"] == 1
            assert len(report.json()["cases"]["opened"]) == 1
            queue = client.get(
                "/staff/v1/cases?status=open", headers={"Authorization": f"Bearer {token}"}
            )
            assert queue.status_code == 200, queue.text
            [case] = queue.json()["cases"]
            assert case["subject_kind"] == "payment_account"
            assert "yesterday's batch found 1" in result.output
        with platform.sessions() as db:
            created = db.scalars(
                select(StaffAction.actor).where(StaffAction.action == "staff.create")
            ).all()
            assert created == ["cli:demo"] * len(Role)
    finally:
        platform.engine.dispose()


def test_demo_refuses_production_settings_and_leaves_the_database_alone(tmp_path: Path) -> None:
    path = tmp_path / "demo.db"
    path.write_bytes(b"not to be deleted")
    result = CliRunner().invoke(
        app,
        ["demo", "--no-serve", "--db", str(path)],
        env={
            "FAIRSLOT_ENVIRONMENT": "production",
            "FAIRSLOT_DATA_KEY": DEV_DATA_KEY,
            "FAIRSLOT_HASH_KEY": "a-production-hash-key-for-this-test",
        },
    )
    assert result.exit_code == 1
    assert "demo_refused" in result.output
    assert path.read_bytes() == b"not to be deleted"
