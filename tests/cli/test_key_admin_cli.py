"""``fairslot channel rotate-key | deactivate`` and ``fairslot hospital rotate-key``: IT on
the server revokes a leaked key; the new key is printed once, the old one no longer
matches, and each step is audited under the named IT person."""

from __future__ import annotations

import re

import pytest
from click.testing import Result
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from factories.demand import create_channel
from factories.supply import create_hospital_with_key
from fairslot.channels import repository as channel_repo
from fairslot.cli import common
from fairslot.cli.main import app
from fairslot.crypto import hash_api_key
from fairslot.hospitals import repository as hospital_repo
from fairslot.staff.models import StaffAction

KEY = re.compile(r"\b(?:ck|hk)_[A-Za-z0-9_-]{20,}")


@pytest.fixture(autouse=True)
def wide_consoles(monkeypatch: pytest.MonkeyPatch) -> None:
    for shared in (common.console, common.err_console):
        monkeypatch.setattr(shared, "_width", 200)


@pytest.fixture
def run(database_url: str):
    runner = CliRunner()

    def invoke(*args: str) -> Result:
        return runner.invoke(app, list(args), env={"FAIRSLOT_DATABASE_URL": database_url})

    return invoke


def _actions(db: Session) -> list[tuple[str, str, str, str | None]]:
    db.rollback()
    rows = db.scalars(select(StaffAction).order_by(StaffAction.id))
    return [(r.actor, r.action, r.target_id, r.reason) for r in rows]


def test_it_rotates_a_channel_key_and_deactivates_the_channel(run, db: Session) -> None:
    _, old_key = create_channel(db, code="leaky")
    db.commit()

    rotated = run("channel", "rotate-key", "leaky", "--by", "zhou", "--reason", "leaked")
    no_reason = run("channel", "deactivate", "leaky", "--by", "zhou", "--reason", " ")
    off = run("channel", "deactivate", "leaky", "--by", "zhou", "--reason", "reselling")

    assert rotated.exit_code == 0, rotated.output
    (new_key,) = KEY.findall(rotated.output)
    assert new_key != old_key
    assert no_reason.exit_code == 1 and "reason_required" in no_reason.output
    assert off.exit_code == 0, off.output
    db.expire_all()  # the CLI changed the channel this session loaded
    assert channel_repo.by_key_hash(db, hash_api_key(old_key)) is None
    channel = channel_repo.by_code(db, "leaky")
    assert channel is not None and channel.api_key_hash == hash_api_key(new_key)
    assert channel.active is False
    assert _actions(db) == [
        ("cli:zhou", "channel.rotate_key", "leaky", "leaked"),
        ("cli:zhou", "channel.deactivate", "leaky", "reselling"),
    ]


def test_it_rotates_a_hospital_key(run, db: Session) -> None:
    _, old_key = create_hospital_with_key(db, code="HK1")
    db.commit()

    rotated = run("hospital", "rotate-key", "HK1", "--by", "zhou")
    unknown = run("hospital", "rotate-key", "NOPE", "--by", "zhou")

    assert rotated.exit_code == 0, rotated.output
    (new_key,) = KEY.findall(rotated.output)
    assert unknown.exit_code == 1 and "hospital_not_found" in unknown.output
    db.rollback()
    assert hospital_repo.by_key_hash(db, hash_api_key(old_key)) is None
    assert hospital_repo.by_key_hash(db, hash_api_key(new_key)) is not None
    assert _actions(db) == [("cli:zhou", "hospital.rotate_key", "HK1", None)]
