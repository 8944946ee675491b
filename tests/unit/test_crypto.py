"""Encryption at rest and keyed hashes: pure, no database."""

from __future__ import annotations

import pytest

from fairslot.crypto import Protector, hash_api_key, new_api_key

KEY_A = "a-data-key-for-tests"
HASH_A = "a-hash-key-for-tests"


def _protector(data_key: str = KEY_A, hash_key: str = HASH_A) -> Protector:
    return Protector(data_key=data_key, hash_key=hash_key)


def test_encrypted_data_decrypts_to_the_original() -> None:
    protector = _protector()

    token = protector.encrypt("11010519491231002X")

    assert token != "11010519491231002X"
    assert "11010519491231002X" not in token
    assert protector.decrypt(token) == "11010519491231002X"


def test_encrypting_twice_gives_different_tokens() -> None:
    protector = _protector()

    assert protector.encrypt("13812345678") != protector.encrypt("13812345678")


def test_a_token_cannot_be_decrypted_with_another_data_key() -> None:
    token = _protector().encrypt("secret")

    with pytest.raises(ValueError, match="cannot decrypt"):
        _protector(data_key="another-data-key").decrypt(token)


def test_a_tampered_token_is_refused() -> None:
    protector = _protector()
    token = protector.encrypt("secret")
    tampered = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]

    with pytest.raises(ValueError):
        protector.decrypt(tampered)


def test_a_proper_fernet_key_is_used_as_is() -> None:
    from cryptography.fernet import Fernet

    key = Fernet.generate_key().decode()
    token = _protector(data_key=key).encrypt("secret")

    assert Fernet(key.encode()).decrypt(token.encode()) == b"secret"


def test_keyed_hashes_are_deterministic() -> None:
    assert _protector().keyed_hash("x", purpose="phone") == _protector().keyed_hash(
        "x", purpose="phone"
    )


def test_keyed_hashes_depend_on_the_hash_key() -> None:
    assert _protector().keyed_hash("x", purpose="phone") != _protector(
        hash_key="another-hash-key"
    ).keyed_hash("x", purpose="phone")


def test_keyed_hashes_depend_on_the_purpose() -> None:
    protector = _protector()

    assert protector.keyed_hash("x", purpose="phone") != protector.keyed_hash(
        "x", purpose="resident_id"
    )


def test_keyed_hashes_do_not_depend_on_the_data_key() -> None:
    assert _protector().keyed_hash("x", purpose="phone") == _protector(
        data_key="another-data-key"
    ).keyed_hash("x", purpose="phone")


def test_api_keys_are_random_prefixed_and_stored_as_a_stable_hash() -> None:
    first, second = new_api_key("ck"), new_api_key("ck")

    assert first.startswith("ck_") and first != second
    assert hash_api_key(first) == hash_api_key(first)
    assert hash_api_key(first) != hash_api_key(second)
    assert first not in hash_api_key(first)
