"""The environment is one of three names, and production refuses the published
development keys, malformed data keys and short hash keys; a passphrase is not turned
into a data key by one unsalted SHA-256. Pure: no database."""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.fernet import Fernet, InvalidToken
from pydantic import ValidationError

from fairslot.bootstrap import bootstrap
from fairslot.config import DEV_DATA_KEY, DEV_HASH_KEY, Environment, load_settings
from fairslot.crypto import Protector

GOOD_DATA_KEY = "n3mU2Bx6QeW0m5f3KcJ1yX9pQ2rT4vZ8aB7cD6eF5gE="  # 32 bytes, urlsafe base64
GOOD_HASH_KEY = "a-production-hash-key-of-at-least-32-bytes"


@pytest.mark.parametrize(
    ("given", "environment"),
    [
        ("development", Environment.DEVELOPMENT),
        ("Production", Environment.PRODUCTION),
        (" PRODUCTION ", Environment.PRODUCTION),
        ("Test", Environment.TEST),
    ],
)
def test_the_environment_is_read_whatever_its_letter_case(
    given: str, environment: Environment
) -> None:
    settings = load_settings(environment=given, data_key=GOOD_DATA_KEY, hash_key=GOOD_HASH_KEY)

    assert settings.environment is environment
    assert settings.is_production is (environment is Environment.PRODUCTION)


@pytest.mark.parametrize("given", ["prod", "staging", "", "productionn"])
def test_an_unknown_environment_is_refused(given: str) -> None:
    with pytest.raises(ValidationError, match="environment"):
        load_settings(environment=given)


def test_the_environment_variable_is_read_case_insensitively(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FAIRSLOT_ENVIRONMENT", "Production")
    monkeypatch.setenv("FAIRSLOT_DATA_KEY", DEV_DATA_KEY)

    settings = load_settings()

    assert settings.is_production
    with pytest.raises(RuntimeError, match="development"):
        settings.check_production()


@pytest.mark.parametrize(
    ("data_key", "hash_key", "complaint"),
    [
        (None, GOOD_HASH_KEY, "FAIRSLOT_DATA_KEY"),
        (GOOD_DATA_KEY, None, "FAIRSLOT_HASH_KEY"),
        (DEV_DATA_KEY, GOOD_HASH_KEY, "development"),
        (GOOD_DATA_KEY, DEV_HASH_KEY, "development"),
        ("k" * 44, GOOD_HASH_KEY, "Fernet"),
        ("my office passphrase", GOOD_HASH_KEY, "Fernet"),
        (GOOD_DATA_KEY[:-2], GOOD_HASH_KEY, "Fernet"),  # a mistyped key
        (GOOD_DATA_KEY, "short-hash-key", "32 bytes"),
    ],
)
def test_production_refuses_development_malformed_and_short_keys(
    data_key: str | None, hash_key: str | None, complaint: str
) -> None:
    settings = load_settings(environment="production", data_key=data_key, hash_key=hash_key)

    with pytest.raises(RuntimeError, match=complaint):
        settings.check_production()
    with pytest.raises(RuntimeError, match=complaint):
        bootstrap(settings.model_copy(update={"database_url": "sqlite:///:memory:"}))


def test_production_starts_on_a_real_fernet_key_and_a_long_hash_key() -> None:
    settings = load_settings(
        environment="production",
        data_key=Fernet.generate_key().decode(),
        hash_key=GOOD_HASH_KEY,
        database_url="sqlite:///:memory:",
        # production also wants a real SMS gateway and payment provider (issue 12)
        sms_sender="http",
        sms_gateway_url="https://sms.example/send",
        payment_provider="http",
        payment_url="https://cashier.example/pay",
        payment_secret="a-real-shared-secret-with-the-provider",
        # and a token for the operators' /metrics (issue 14)
        metrics_token="a-long-random-token-for-prometheus-scrapes",
    )

    settings.check_production()
    bootstrap(settings).engine.dispose()


def test_development_and_test_still_start_on_the_development_keys() -> None:
    for environment in ("development", "test"):
        load_settings(environment=environment).check_production()


def test_a_passphrase_is_not_turned_into_a_key_by_one_unsalted_sha256() -> None:
    passphrase = "a-data-key-for-tests"
    one_sha256 = base64.urlsafe_b64encode(hashlib.sha256(passphrase.encode()).digest())

    token = Protector(data_key=passphrase, hash_key="h").encrypt("secret")

    with pytest.raises(InvalidToken):
        Fernet(one_sha256).decrypt(token.encode())
    assert Protector(data_key=passphrase, hash_key="h").decrypt(token) == "secret"
