"""``fairslot privacy purge`` and ``fairslot keys reencrypt``, run in-process against real
databases (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select
from typer.testing import CliRunner

from factories.demand import create_patient
from factories.world import World
from fairslot.audit import service as audit
from fairslot.audit.models import RequestRecord
from fairslot.cli import common
from fairslot.cli.main import app
from fairslot.config import Settings
from fairslot.crypto import Protector
from fairslot.patients.models import Patient

OLD, NEW = Fernet.generate_key().decode(), Fernet.generate_key().decode()


@pytest.fixture(autouse=True)
def wide_consoles(monkeypatch: pytest.MonkeyPatch) -> None:
    for shared in (common.console, common.err_console):
        monkeypatch.setattr(shared, "_width", 200)


def test_purge_reduces_what_is_older_than_the_retention_period(
    world: World, settings: Settings
) -> None:
    ctx = world.ctx(device_id="imei-9", ip="198.51.100.4")
    audit.write(world.db, pending=audit.PendingRecord("hold", world.now(), ctx), outcome="ok")
    world.db.commit()
    env = {"FAIRSLOT_DATABASE_URL": settings.database_url}
    days = settings.request_context_retention_days

    # The command's clock starts where the simulator's setting puts it: first a day
    # before the record expires, then a day after.
    early, late = (
        (world.now() + dt.timedelta(days=days + offset)).isoformat() for offset in (-1, 1)
    )
    before = CliRunner().invoke(
        app, ["privacy", "purge"], env=env | {"FAIRSLOT_SIM_CLOCK_START": early}
    )
    after = CliRunner().invoke(
        app, ["privacy", "purge"], env=env | {"FAIRSLOT_SIM_CLOCK_START": late}
    )

    assert before.exit_code == 0 and after.exit_code == 0, (before.output, after.output)
    assert "request records reduced: 0" in before.output
    assert "request records reduced: 1" in after.output
    world.db.rollback()
    assert world.db.scalars(select(RequestRecord.device_key)).one() is None


def test_keys_reencrypt_moves_old_ciphertexts_and_a_second_run_moves_none(
    world: World, settings: Settings
) -> None:
    old = Protector(data_key=OLD, hash_key=settings.effective_hash_key())
    patient = create_patient(world.db, world.platform)
    patient.name_encrypted = old.encrypt("张三明")  # as a server on the old key wrote it
    world.db.commit()
    env = {
        "FAIRSLOT_DATABASE_URL": settings.database_url,
        "FAIRSLOT_DATA_KEY": NEW,
        "FAIRSLOT_OLD_DATA_KEYS": f"{OLD},{settings.effective_data_key()}",
    }

    first = CliRunner().invoke(app, ["keys", "reencrypt", "--batch", "2"], env=env)
    again = CliRunner().invoke(app, ["keys", "reencrypt"], env=env)

    assert first.exit_code == 0 and again.exit_code == 0, (first.output, again.output)
    assert "patients.name_encrypted: 1 scanned, 1 re-encrypted" in first.output
    assert "done: 0 values moved" in again.output
    world.db.rollback()
    token = world.db.scalars(select(Patient.name_encrypted)).one()
    assert Protector(data_key=NEW, hash_key="h").decrypt(token) == "张三明"


def test_keys_reencrypt_refuses_when_no_key_reads_a_value(world: World, settings: Settings) -> None:
    create_patient(world.db, world.platform)
    world.db.commit()
    env = {"FAIRSLOT_DATABASE_URL": settings.database_url, "FAIRSLOT_DATA_KEY": NEW}

    result = CliRunner().invoke(app, ["keys", "reencrypt"], env=env)

    assert result.exit_code == 1
    assert "key_missing" in result.output
