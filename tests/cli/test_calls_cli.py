"""``fairslot calls sample``: the daily sample of confirmed bookings from the command line."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from factories.risk import book_for_patients
from factories.world import World
from fairslot.cli import common
from fairslot.cli.main import app
from fairslot.followup.models import CallTask
from fairslot.staff.models import StaffAction


@pytest.fixture(autouse=True)
def wide_consoles(monkeypatch: pytest.MonkeyPatch) -> None:
    for shared in (common.console, common.err_console):
        monkeypatch.setattr(shared, "_width", 200)


def test_calls_sample_creates_the_days_tasks_once(world: World, database_url: str) -> None:
    op = book_for_patients(world, patients=3)
    env = {"FAIRSLOT_DATABASE_URL": database_url, "FAIRSLOT_FOLLOWUP_SAMPLE_RATE": "1"}
    runner = CliRunner()

    first = runner.invoke(app, ["calls", "sample", "--date", "2026-11-22", "--by", "zhou"], env=env)
    again = runner.invoke(app, ["calls", "sample", "--date", "2026-11-22"], env=env)
    other_day = runner.invoke(app, ["calls", "sample", "--date", "2026-11-21"], env=env)
    bad = runner.invoke(app, ["calls", "sample", "--date", "22/11/2026"], env=env)

    assert first.exit_code == 0, first.output
    assert "3 confirmed bookings, 0 sampled before, 3 call tasks created" in first.output
    assert "3 sampled before, 0 call tasks created" in again.output
    assert "0 confirmed bookings" in other_day.output
    assert bad.exit_code == 2 and "not a date" in bad.output
    world.db.rollback()
    tasks = world.db.scalars(select(CallTask.booking_id)).all()
    assert sorted(tasks) == sorted(op.booking_ids)
    runs = world.db.scalars(
        select(StaffAction.actor).where(StaffAction.action == "calls.sample")
    ).all()
    assert runs[0] == "cli:zhou" and len(runs) == 3
