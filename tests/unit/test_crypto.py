"""Encryption at rest and keyed hashes: pure, no database.

The known answers were computed outside this code base with OpenSSL (3.0):

    printf '%s' 'resident_id:11010519491231002X' | openssl dgst -sha256 -hmac 'a-hash-key-for-tests'
    printf '%s' 'ck_known-answer-api-key' | openssl dgst -sha256
    openssl kdf -keylen 32 -kdfopt pass:a-data-key-for-tests \
        -kdfopt salt:fairslot/data-key/v1 -kdfopt n:16384 -kdfopt r:8 -kdfopt p:1 SCRYPT

and the Fernet token assembled by hand from that key (version 0x80, time 1700000000,
IV 00..0f, ``openssl enc -aes-128-cbc`` with the key's second half, HMAC-SHA256 with its
first half, urlsafe base64), so stored data stays readable only if the platform still
stretches a passphrase and encrypts exactly so.
"""

from __future__ import annotations

import pytest

from fairslot.crypto import Protector, hash_api_key, new_api_key

KEY_A = "a-data-key-for-tests"
HASH_A = "a-hash-key-for-tests"
# scrypt(KEY_A, salt "fairslot/data-key/v1", n 2**14, r 8, p 1), urlsafe base64
FERNET_OF_KEY_A = "4rAEeLESdDr7IRR0aXpUKAbTEEHbOUT8VTHvD5e2S2g="
TOKEN_OF_ID = (  # "11010519491231002X" under FERNET_OF_KEY_A
    "gAAAAABlU_EAAAECAwQFBgcICQoLDA0ODwaWf2s54fK6YfVo_r1mvDpDxASr8Pn5ebcsRhEbtI7Y7YXbdB2vEvel"
    "_dQd30yTvbCvjwuZBJSLAeJ7LVPL4zo="
)


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


def test_a_token_made_elsewhere_under_the_stretched_passphrase_decrypts() -> None:
    assert _protector().decrypt(TOKEN_OF_ID) == "11010519491231002X"


def test_a_fernet_key_decrypts_a_token_made_elsewhere_as_is() -> None:
    assert _protector(data_key=FERNET_OF_KEY_A).decrypt(TOKEN_OF_ID) == "11010519491231002X"


def test_what_a_passphrase_encrypts_decrypts_with_its_scrypt_key() -> None:
    from cryptography.fernet import Fernet

    token = _protector().encrypt("13812345678")

    assert Fernet(FERNET_OF_KEY_A.encode()).decrypt(token.encode()) == b"13812345678"


@pytest.mark.parametrize(
    ("value", "purpose", "expected"),
    [
        (
            "11010519491231002X",
            "resident_id",
            "b451587c844f56fddf1c8fadfdddf3cd4479d89e2e2642c1b7267090d72055cc",
        ),
        (
            "13812345678",
            "phone",
            "22c5dcb4664a75e94eef76ed9e9932a3eccfd52ca901a6779dc298a368d4ae06",
        ),
    ],
)
def test_a_keyed_hash_is_hmac_sha256_of_purpose_and_value(
    value: str, purpose: str, expected: str
) -> None:
    assert _protector().keyed_hash(value, purpose=purpose) == expected


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
    assert len(first) >= len("ck_") + 43  # 32 random bytes
    assert hash_api_key(first) != hash_api_key(second)
    assert first not in hash_api_key(first)


def test_an_api_key_is_stored_as_its_sha256() -> None:
    assert hash_api_key("ck_known-answer-api-key") == (
        "a3fba3f5ee5e468ee058207c0f4d964a18392f608cdea9ae6ef0cff5df0fff94"
    )
