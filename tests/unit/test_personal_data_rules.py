"""How personal data is kept: keyed hashes computed once at the edge (equal to the
blacklist's keys), masked labels for people to read, the key-rotation settings and the
retention setting. No database."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from pydantic import ValidationError

from fairslot.blacklist.keys import key_for
from fairslot.blacklist.models import Scope
from fairslot.config import DEV_DATA_KEY, Settings, load_settings, make_protector
from fairslot.context import edge_context, mask_ip
from fairslot.crypto import Protector
from fairslot.patients.identity import mask_name

PROTECTOR = Protector(data_key="unit-test-data-key", hash_key="unit-test-hash-key")


def test_the_edge_keeps_only_keyed_hashes_equal_to_the_blacklist_keys() -> None:
    ctx = edge_context(
        protector=PROTECTOR,
        actor="patient",
        device_id="imei-1",
        ip="203.0.113.77",
        wifi_id="home-ap",
    )
    assert ctx.device_key == key_for(Scope.DEVICE, "imei-1", protector=PROTECTOR)
    assert ctx.ip_key == key_for(Scope.NETWORK, "203.0.113.77", protector=PROTECTOR)
    assert ctx.wifi_key == key_for(Scope.NETWORK, "home-ap", protector=PROTECTOR)
    assert ctx.ip_label == "203.0.113.x"
    assert "imei-1" not in repr(ctx) and "203.0.113.77" not in repr(ctx)
    assert "home-ap" not in repr(ctx)


def test_a_request_without_identifiers_has_no_keys() -> None:
    ctx = edge_context(protector=PROTECTOR, actor="patient")
    assert (ctx.device_key, ctx.ip_key, ctx.ip_label, ctx.wifi_key) == (None, None, None, None)


@pytest.mark.parametrize(
    ("address", "label"),
    [
        ("203.0.113.77", "203.0.113.x"),
        ("10.0.0.1", "10.0.0.x"),
        ("2001:db8:1:2::5", "2001:db8:1::/48"),
        ("::ffff:198.51.100.9", "198.51.100.x"),
        ("not-an-address", "not…"),
    ],
)
def test_an_address_is_shown_masked(address: str, label: str) -> None:
    assert mask_ip(address) == label


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("张三明", "张*明"),
        ("张三", "张*"),
        ("欧阳明月", "欧**月"),
        ("阿依古丽·买买提", "阿***·**提"),
        ("John Smith", "J*** ****h"),
        ("Li", "L*"),
    ],
)
def test_a_name_is_shown_masked_and_masking_twice_changes_nothing(name: str, masked: str) -> None:
    assert mask_name(name) == masked
    assert mask_name(masked) == masked


def test_old_data_keys_still_decrypt_and_new_values_use_the_current_key() -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    token = Protector(data_key=old, hash_key="h").encrypt("张三明")
    rotating = Protector(data_key=new, hash_key="h", old_data_keys=[old])

    assert rotating.decrypt(token) == "张三明" and not rotating.is_current(token)
    moved = rotating.reencrypt(token)
    assert rotating.is_current(moved) and rotating.is_current(rotating.encrypt("x"))
    assert Protector(data_key=new, hash_key="h").decrypt(moved) == "张三明"
    with pytest.raises(ValueError, match="OLD_DATA_KEYS"):
        Protector(data_key=new, hash_key="h").decrypt(token)


def test_the_keyed_hash_does_not_depend_on_the_data_keys() -> None:
    a = Protector(data_key=Fernet.generate_key().decode(), hash_key="h")
    b = Protector(data_key=Fernet.generate_key().decode(), hash_key="h", old_data_keys=["x"])
    assert a.keyed_hash("imei-1", purpose="device") == b.keyed_hash("imei-1", purpose="device")


def test_old_data_keys_are_read_from_a_comma_separated_setting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    old = Fernet.generate_key().decode()
    monkeypatch.setenv("FAIRSLOT_OLD_DATA_KEYS", f" {old} ,")
    settings = load_settings()
    assert settings.old_data_keys == [old]
    assert make_protector(settings).decrypt(Protector(data_key=old, hash_key="h").encrypt("x"))


def production(**overrides: object) -> Settings:
    return load_settings(
        environment="production",
        data_key=Fernet.generate_key().decode(),
        hash_key="h" * 40,
        metrics_enabled=False,
        **overrides,
    )


@pytest.mark.parametrize(
    ("old", "problem"),
    [
        ("a passphrase", "FAIRSLOT_OLD_DATA_KEYS #1 must be a Fernet key"),
        (DEV_DATA_KEY, "FAIRSLOT_OLD_DATA_KEYS #1 is the published development key"),
    ],
)
def test_production_refuses_weak_old_keys(old: str, problem: str) -> None:
    with pytest.raises(RuntimeError, match=problem):
        production(old_data_keys=[old]).check_production()


def test_production_accepts_a_real_old_key() -> None:
    production(old_data_keys=[Fernet.generate_key().decode()]).check_production()


def test_the_retention_has_a_documented_default_and_must_cover_the_windows() -> None:
    assert load_settings().request_context_retention_days == 180
    with pytest.raises(ValidationError, match="at least 30"):
        load_settings(request_context_retention_days=20, risk_window_days=30)
    with pytest.raises(ValidationError):
        load_settings(request_context_retention_days=7)  # below the floor of 14 days
