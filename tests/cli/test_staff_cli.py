"""``fairslot staff``: IT creates, changes and deactivates staff accounts from the command
line, and every step is audited under the named IT person."""

from __future__ import annotations

import pytest
from click.testing import Result
from sqlalchemy import select
from typer.testing import CliRunner

from factories.world import World
from fairslot.cli import common
from fairslot.cli.main import app
from fairslot.staff.models import StaffAction, StaffUser

PASSWORD = "correct horse battery"


@pytest.fixture(autouse=True)
def wide_consoles(monkeypatch: pytest.MonkeyPatch) -> None:
    for shared in (common.console, common.err_console):
        monkeypatch.setattr(shared, "_width", 200)


def test_it_creates_changes_and_deactivates_a_staff_account(
    world: World, database_url: str
) -> None:
    env = {"FAIRSLOT_DATABASE_URL": database_url, "FAIRSLOT_NEW_STAFF_PASSWORD": PASSWORD}
    runner = CliRunner()

    def run(*args: str) -> Result:
        return runner.invoke(app, ["staff", *args], env=env)

    created = run("create", "wang", "--roles", "reviewer", "--name", "Wang Li", "--by", "zhou")
    assert created.exit_code == 0, created.output
    world.db.rollback()
    first_hash = world.db.scalars(select(StaffUser.password_hash)).one()
    assert first_hash.startswith("$argon2") and PASSWORD not in first_hash

    renamed = run(
        "roles", "wang", "--roles", "reviewer,auditor", "--by", "zhou", "--reason", "audits too"
    )
    env["FAIRSLOT_NEW_STAFF_PASSWORD"] = "another long passphrase"
    changed = run("passwd", "wang", "--by", "zhou")
    deactivated = run("deactivate", "wang", "--by", "zhou", "--reason", "left the office")
    listed = run("list")
    unknown_role = run("create", "li", "--roles", "janitor", "--by", "zhou")

    for result in (renamed, changed, deactivated, listed):
        assert result.exit_code == 0, result.output
    assert unknown_role.exit_code == 2 and "unknown role" in unknown_role.output
    assert "wang" in listed.output and "Wang Li" in listed.output
    world.db.rollback()
    user = world.db.scalars(select(StaffUser)).one()
    assert (user.username, user.roles, user.active) == ("wang", "auditor,reviewer", False)
    assert user.password_hash != first_hash
    actions = world.db.execute(
        select(StaffAction.actor, StaffAction.action).order_by(StaffAction.id)
    ).all()
    assert [tuple(a) for a in actions] == [
        ("cli:zhou", "staff.create"),
        ("cli:zhou", "staff.roles"),
        ("cli:zhou", "staff.password"),
        ("cli:zhou", "staff.deactivate"),
    ]
