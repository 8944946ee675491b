"""Rotating the data-encryption key without downtime: the servers read old and new
ciphertexts during the rotation, ``fairslot keys reencrypt`` moves every one to the new
key, and then the old key can go. SQLite and PostgreSQL."""

from __future__ import annotations

import random

from cryptography.fernet import Fernet
from sqlalchemy import select

from factories.demand import create_patient
from factories.world import make_world
from fairslot.bootstrap import Platform, bootstrap
from fairslot.cli import keys_cmd
from fairslot.config import Settings
from fairslot.db.registry import Base
from fairslot.patients.models import Account, Patient
from fairslot.patients.service import patient_name
from fairslot.privacy.repository import ENCRYPTED

OLD, NEW = Fernet.generate_key().decode(), Fernet.generate_key().decode()


def platform_with(settings: Settings, platform: Platform, **keys: object) -> Platform:
    """A second server on the same database and clock, configured with ``keys``."""
    return bootstrap(settings.model_copy(update=keys), clock=platform.clock, rng=random.Random(1))


def test_old_ciphertexts_still_decrypt_and_after_reencrypt_need_only_the_new_key(
    settings: Settings, platform: Platform, db
) -> None:
    before = platform_with(settings, platform, data_key=OLD)
    make_world(db, before)  # its rows made under the old key too
    patient = create_patient(db, before, name="张三明")
    db.commit()
    account_token = db.scalars(select(Account.phone_encrypted)).first()
    assert account_token is not None

    # During the rotation: the new key first, the old one still accepted.
    during = platform_with(settings, platform, data_key=NEW, old_data_keys=[OLD])
    db.expire_all()
    assert patient_name(db.get(Patient, patient.id), protector=during.protector) == "张三明"
    assert not during.protector.is_current(account_token)
    create_patient(db, during, name="李四")  # written under the new key meanwhile
    db.commit()

    reports = {r.name: r for r in keys_cmd.reencrypt_all(during, batch=1)}
    assert reports["patients.name_encrypted"].reencrypted == 1
    assert reports["patients.name_encrypted"].current == 1  # the one written meanwhile
    assert reports["accounts.phone_encrypted"].reencrypted >= 1
    again = keys_cmd.reencrypt_all(during, batch=50)
    assert sum(r.reencrypted for r in again) == 0  # idempotent

    after = platform_with(settings, platform, data_key=NEW)  # the old key removed
    with after.sessions() as server:  # a server that knows only the new key
        for p in server.scalars(select(Patient)):
            after.protector.decrypt(p.name_encrypted)
            after.protector.decrypt(p.id_encrypted)
            after.protector.decrypt(p.phone_encrypted)
        for token in server.scalars(select(Account.phone_encrypted)):
            after.protector.decrypt(token)
        names = {
            patient_name(p, protector=after.protector) for p in server.scalars(select(Patient))
        }
    assert names == {"张三明", "李四"}
    for plat in (before, during, after):
        plat.engine.dispose()


def test_a_ciphertext_no_key_reads_stops_the_command_before_it_writes_anything(
    settings: Settings, platform: Platform, db
) -> None:
    before = platform_with(settings, platform, data_key=OLD)
    make_world(db, before)
    create_patient(db, before, name="王五")
    db.commit()
    lost = platform_with(settings, platform, data_key=NEW)  # the old key forgotten

    try:
        keys_cmd.reencrypt_all(lost, batch=10)
    except ValueError as exc:
        assert "no configured key" in str(exc)
    else:
        raise AssertionError("re-encrypting without the old key should refuse")
    for plat in (before, lost):
        plat.engine.dispose()


def test_every_encrypted_column_of_the_models_is_rotated() -> None:
    in_models = {
        f"{table.name}.{column.name}"
        for table in Base.metadata.sorted_tables
        for column in table.columns
        if column.name.endswith("_encrypted")
    }
    assert in_models == {target.name for target in ENCRYPTED}
